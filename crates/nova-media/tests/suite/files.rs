//! Test files, built byte by byte: a JPEG with GPS EXIF and an orientation, hostile
//! files (pixel flood, decompression bombs, polyglots, truncations).

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

/// A marker in the EXIF GPS block (GPSProcessingMethod) that must appear in no variant.
pub(crate) const GPS_MARKER: &[u8] = b"NOVA-GPS-MARKER";

/// `w × h`, left half red, right half blue, encoded as `format`.
pub(crate) fn halves(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
    t.extend(tag.to_le_bytes());
    t.extend(kind.to_le_bytes());
    t.extend(count.to_le_bytes());
    t.extend(value);
}

/// An APP1 EXIF segment: IFD0 with `orientation` and a GPS IFD (latitude, longitude and
/// a processing method holding [`GPS_MARKER`]).
pub(crate) fn exif_segment(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(b"II");
    t.extend(42u16.to_le_bytes());
    t.extend(8u32.to_le_bytes());
    let gps_ifd: u32 = 8 + 2 + 2 * 12 + 4;
    t.extend(2u16.to_le_bytes());
    let mut o = [0u8; 4];
    o[..2].copy_from_slice(&orientation.to_le_bytes());
    entry(&mut t, 0x0112, 3, 1, o);
    entry(&mut t, 0x8825, 4, 1, gps_ifd.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    assert_eq!(t.len() as u32, gps_ifd);
    let entries = 6u32;
    let data = gps_ifd + 2 + entries * 12 + 4;
    let (lat, lon, method) = (data, data + 24, data + 48);
    let mut method_bytes = b"ASCII\0\0\0".to_vec();
    method_bytes.extend(GPS_MARKER);
    t.extend((entries as u16).to_le_bytes());
    entry(&mut t, 0x0000, 1, 4, [2, 3, 0, 0]);
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, lat.to_le_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, lon.to_le_bytes());
    entry(
        &mut t,
        0x001B,
        7,
        method_bytes.len() as u32,
        method.to_le_bytes(),
    );
    t.extend(0u32.to_le_bytes());
    assert_eq!(t.len() as u32, data);
    for (n, d) in [
        (48u32, 1u32),
        (51, 1),
        (2958, 100),
        (2, 1),
        (17, 1),
        (4012, 100),
    ] {
        t.extend(n.to_le_bytes());
        t.extend(d.to_le_bytes());
    }
    t.extend(&method_bytes);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend(((2 + 6 + t.len()) as u16).to_be_bytes());
    seg.extend(b"Exif\0\0");
    seg.extend(t);
    seg
}

/// A `w × h` JPEG (left red, right blue) carrying GPS EXIF and `orientation`.
pub(crate) fn jpeg_with_gps(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let plain = halves(w, h, ImageFormat::Jpeg);
    assert_eq!(&plain[..2], &[0xFF, 0xD8]);
    let mut out = plain[..2].to_vec();
    out.extend(exif_segment(orientation));
    out.extend(&plain[2..]);
    out
}

/// CRC-32 (IEEE) as PNG chunks use it.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(bytes);
    h.finalize()
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A PNG declaring `w × h` 8-bit grey with `idat` as its compressed data.
pub(crate) fn png_with(w: u32, h: u32, idat: &[u8]) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The pixel flood: a 64,250 × 64,250 PNG of a few hundred bytes.
pub(crate) fn pixel_flood() -> Vec<u8> {
    let row = vec![0u8; 64_250 + 1];
    png_with(64_250, 64_250, &fdeflate::compress_to_vec(&row))
}

/// A zlib bomb inside a PNG: 8,000 × 8,000 of zeros (64 MB) in about 64 KB.
pub(crate) fn png_zlib_bomb() -> Vec<u8> {
    let raw = vec![0u8; 8_000 * (8_000 + 1)];
    png_with(8_000, 8_000, &fdeflate::compress_to_vec(&raw))
}

/// A gzip bomb (64 MiB of zeros) to be sent as `photo.png`.
pub(crate) fn gzip_bomb() -> Vec<u8> {
    let raw = vec![0u8; 64 << 20];
    let zlib = fdeflate::compress_to_vec(&raw);
    // zlib = 2-byte header + raw deflate + 4-byte Adler-32; gzip wraps the same deflate.
    let mut out = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF];
    out.extend(&zlib[2..zlib.len() - 4]);
    out.extend(crc32(&raw).to_le_bytes());
    out.extend((raw.len() as u32).to_le_bytes());
    out
}

/// A minimal MP4 header (ftyp box) and some payload.
pub(crate) fn mp4() -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x18];
    out.extend(b"ftypisom");
    out.extend([0, 0, 2, 0]);
    out.extend(b"isommp41");
    out.extend(vec![7u8; 4096]);
    out
}
