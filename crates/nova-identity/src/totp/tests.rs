use std::collections::HashSet;

use chrono::Duration;
use nova_core::ManualClock;

use super::*;

const T0: i64 = 1_800_000_015; // mid-step: 1_800_000_000 is a multiple of 30

fn rfc_totp(clock: &ManualClock) -> Totp {
    // RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
    let secret = TotpSecret(b"12345678901234567890".to_vec());
    Totp::new(&secret, "alice", clock.shared()).unwrap()
}

#[test]
fn matches_the_rfc_6238_test_vectors() {
    let clock = ManualClock::at_epoch_seconds(0);
    let totp = rfc_totp(&clock);
    // The RFC lists 8-digit codes; 6-digit codes are their last six digits.
    for (time, eight) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(totp.code_at(time), eight[2..], "T = {time}");
    }
}

#[test]
fn accepts_one_step_of_skew_and_returns_the_matched_step() {
    let clock = ManualClock::at_epoch_seconds(T0);
    let totp = Totp::new(&TotpSecret::generate(), "alice", clock.shared()).unwrap();
    let now = T0 as u64;
    let step = now / 30;
    assert_eq!(totp.current_step(), step);
    assert_eq!(totp.verify(&totp.code_at(now), None).unwrap(), step);
    assert_eq!(
        totp.verify(&totp.code_at(now - 30), None).unwrap(),
        step - 1
    );
    assert_eq!(
        totp.verify(&totp.code_at(now + 30), None).unwrap(),
        step + 1
    );
    for off in [-90_i64, -60, 60, 90] {
        let code = totp.code_at((T0 + off) as u64);
        // A random secret could collide with a neighbouring step's code (1 in 10^6).
        if [now - 30, now, now + 30]
            .iter()
            .any(|t| totp.code_at(*t) == code)
        {
            continue;
        }
        let err = totp.verify(&code, None).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "offset {off}");
    }
}

#[test]
fn a_code_cannot_be_used_twice_nor_an_older_one_after_it() {
    let clock = ManualClock::at_epoch_seconds(T0);
    let totp = Totp::new(&TotpSecret::generate(), "alice", clock.shared()).unwrap();
    let now = T0 as u64;
    let code = totp.code_at(now);
    let used = totp.verify(&code, None).unwrap();
    let err = totp.verify(&code, Some(used)).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    // The previous step's code is still inside the skew window, but older than the used one.
    let previous = totp.code_at(now - 30);
    assert!(totp.verify(&previous, Some(used)).is_err());
    // The next step's code is fine, and afterwards so is nothing older.
    clock.advance(Duration::seconds(30));
    let next = totp.code_at(now + 30);
    let used_next = totp.verify(&next, Some(used)).unwrap();
    assert_eq!(used_next, used + 1);
    assert!(totp.verify(&next, Some(used_next)).is_err());
    assert!(totp.verify(&code, Some(used_next)).is_err());
}

#[test]
fn codes_follow_the_clock() {
    let clock = ManualClock::at_epoch_seconds(T0);
    let totp = Totp::new(&TotpSecret::generate(), "alice", clock.shared()).unwrap();
    let code = totp.code_at(T0 as u64);
    clock.advance(Duration::minutes(10));
    if totp.code_at(T0 as u64 + 600) != code
        && totp.code_at(T0 as u64 + 570) != code
        && totp.code_at(T0 as u64 + 630) != code
    {
        assert!(totp.verify(&code, None).is_err(), "a 10-minute-old code");
    }
}

#[test]
fn malformed_codes_name_the_field() {
    let clock = ManualClock::at_epoch_seconds(T0);
    let totp = rfc_totp(&clock);
    for code in ["", "12345", "1234567", "12345a", "+12345", "１２３４５６"] {
        let err = totp.verify(code, None).unwrap_err();
        assert_eq!(err.field(), Some("code"), "{code:?}");
    }
    // Spaces as typed from an app ("123 456") are tolerated.
    let code = totp.code_at(T0 as u64);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert!(totp.verify(&spaced, None).is_ok());
}

#[test]
fn otpauth_uri_names_issuer_and_account() {
    let clock = ManualClock::at_epoch_seconds(T0);
    let secret = TotpSecret::generate();
    let totp = Totp::new(&secret, "alice", clock.shared()).unwrap();
    let uri = totp.otpauth_uri().unwrap();
    assert!(uri.starts_with("otpauth://totp/Nova:alice?"), "{uri}");
    assert!(
        uri.contains(&format!("secret={}", secret.to_base32())),
        "{uri}"
    );
    assert!(uri.contains("issuer=Nova"), "{uri}");
    assert!(
        Totp::new(&secret, "a:b", clock.shared()).is_err(),
        "':' in label"
    );
}

#[test]
fn secrets_are_random_160_bit_and_round_trip_base32() {
    let a = TotpSecret::generate();
    let b = TotpSecret::generate();
    assert_eq!(a.as_bytes().len(), 20);
    assert_ne!(a, b);
    let encoded = a.to_base32();
    assert_eq!(encoded.len(), 32);
    assert_eq!(TotpSecret::from_base32(&encoded).unwrap(), a);
    assert_eq!(TotpSecret::from_base32(&encoded.to_lowercase()).unwrap(), a);
    assert!(TotpSecret::from_base32("not base32!").is_err());
    assert!(!format!("{a:?}").contains(&encoded));
    // Too-short secrets are refused.
    let short = TotpSecret(vec![1; 8]);
    let clock = ManualClock::at_epoch_seconds(T0);
    let err = Totp::new(&short, "alice", clock.shared()).unwrap_err();
    assert_eq!(err.field(), Some("totp_secret"));
}

#[test]
fn recovery_codes_are_ten_distinct_codes_stored_only_as_salted_hashes() {
    let generated = generate_recovery_codes();
    assert_eq!(generated.codes.len(), RECOVERY_CODE_COUNT);
    assert_eq!(generated.hashes.len(), RECOVERY_CODE_COUNT);
    let distinct: HashSet<_> = generated.codes.iter().collect();
    assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
    for (code, hash) in generated.codes.iter().zip(&generated.hashes) {
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.matches('-').count(), 3, "{code}");
        assert!(
            code.bytes()
                .all(|b| b == b'-' || RECOVERY_ALPHABET.contains(&b))
        );
        assert!(hash.starts_with("sha256$"), "{hash}");
        assert!(!hash.contains(&code.replace('-', "")));
    }
    // Same code, different salt, different hash.
    assert_ne!(hash_recovery_code("abc"), hash_recovery_code("abc"));
    assert!(!format!("{generated:?}").contains(&generated.codes[0]));
}

#[test]
fn a_recovery_code_works_once() {
    let generated = generate_recovery_codes();
    let code = &generated.codes[3];
    let remaining = verify_recovery_code(code, &generated.hashes).unwrap();
    assert_eq!(remaining.len(), RECOVERY_CODE_COUNT - 1);
    assert!(!remaining.contains(&generated.hashes[3]));
    let err = verify_recovery_code(code, &remaining).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    // The other codes still work, in any typed form.
    let other = generated.codes[7].to_uppercase().replace('-', " ");
    let remaining = verify_recovery_code(&other, &remaining).unwrap();
    assert_eq!(remaining.len(), RECOVERY_CODE_COUNT - 2);
}

#[test]
fn wrong_recovery_codes_and_corrupt_hashes_are_rejected() {
    let generated = generate_recovery_codes();
    for wrong in ["", "0000-0000-0000-0000", "not a code"] {
        assert!(verify_recovery_code(wrong, &generated.hashes).is_err());
    }
    let corrupt = vec![
        "sha256$!!$!!".to_owned(),
        "argon2$x$y".to_owned(),
        String::new(),
    ];
    assert!(verify_recovery_code(&generated.codes[0], &corrupt).is_err());
    assert!(verify_recovery_code(&generated.codes[0], &[]).is_err());
}

#[test]
fn look_alike_characters_are_normalized() {
    assert_eq!(normalize_recovery_code("AbCd-O1Il-xyz0"), "abcd0111xyz0");
}
