use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
use nova_core::{Clock, ManualClock, SessionId};
use rsa::pkcs1::EncodeRsaPrivateKey;

use chrono::Duration;
use nova_core::{ErrorKind, UserId};

use super::*;
use crate::test_keys::{KEY_A, KEY_B};

const ISS: &str = "https://nova.test/identity";
const AUD: &str = "nova";
const T0: i64 = 1_800_000_000;

struct Fixture {
    clock: ManualClock,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    keys: Arc<KeySet>,
}

fn fixture() -> Fixture {
    let clock = ManualClock::at_epoch_seconds(T0);
    let keys = Arc::new(KeySet::new(KEY_A.clone()));
    let config = TokenConfig::new(ISS, AUD);
    Fixture {
        issuer: TokenIssuer::new(keys.clone(), config.clone(), clock.shared()),
        verifier: TokenVerifier::for_key_set(&*keys, config, clock.shared()),
        clock,
        keys,
    }
}

fn principal() -> Principal {
    Principal::user(UserId::new(), SessionId::new())
}

fn assert_unauthenticated(result: Result<Principal>, what: &str) {
    match result {
        Ok(p) => panic!("{what}: accepted as {p:?}"),
        Err(e) => assert_eq!(e.kind(), &ErrorKind::Unauthenticated, "{what}: {e:?}"),
    }
}

fn b64(json: serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).unwrap())
}

fn claims_for(f: &Fixture, p: &Principal) -> AccessClaims {
    let now = f.clock.now().timestamp();
    AccessClaims {
        sub: p.user_id.to_string(),
        sid: p.session_id.to_string(),
        scope: "read write".into(),
        iss: ISS.into(),
        aud: AUD.into(),
        iat: now,
        exp: now + 900,
        jti: "jti-1".into(),
        svc: None,
    }
}

#[test]
fn issued_tokens_verify_to_the_same_principal() {
    let f = fixture();
    let p = principal();
    let issued = f.issuer.issue(&p).unwrap();
    assert_eq!(f.verifier.verify(&issued.token).unwrap(), p);

    let header = jsonwebtoken::decode_header(&issued.token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some("key-a"));

    let claims = f.verifier.verify_claims(&issued.token).unwrap();
    assert_eq!(claims.iat, T0);
    assert_eq!(claims.exp, T0 + 15 * 60);
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.aud, AUD);
    assert_eq!(claims.scope, "read write");
    assert_eq!(claims.jti, issued.jti);
    assert_eq!(issued.expires_at.timestamp(), T0 + 900);
    let second = f.issuer.issue(&p).unwrap();
    assert_ne!(second.jti, issued.jti, "jti must be unique");
}

#[test]
fn expiry_follows_the_injected_clock() {
    let f = fixture();
    let token = f.issuer.issue(&principal()).unwrap().token;
    f.clock.advance(ACCESS_TOKEN_TTL - Duration::seconds(1));
    assert!(f.verifier.verify(&token).is_ok(), "valid just before exp");
    f.clock.advance(Duration::seconds(DEFAULT_LEEWAY_SECS));
    assert!(f.verifier.verify(&token).is_ok(), "within the leeway");
    f.clock.advance(Duration::seconds(1));
    let err = f.verifier.verify(&token).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    assert_eq!(err.message(), "access token expired");
}

#[test]
fn tokens_issued_in_the_future_are_rejected() {
    let f = fixture();
    let token = f.issuer.issue(&principal()).unwrap().token;
    f.clock.advance(Duration::minutes(-5));
    assert_unauthenticated(f.verifier.verify(&token), "iat 5 minutes ahead");
}

#[test]
fn rejects_alg_none() {
    let f = fixture();
    let claims = serde_json::to_value(claims_for(&f, &principal())).unwrap();
    for alg in ["none", "None", "NONE"] {
        let header = serde_json::json!({"alg": alg, "typ": "JWT", "kid": "key-a"});
        let token = format!("{}.{}.", b64(header.clone()), b64(claims.clone()));
        assert_unauthenticated(f.verifier.verify(&token), "alg none, empty signature");
        // Even with the genuine signature of another token attached.
        let real = f.issuer.issue(&principal()).unwrap().token;
        let sig = real.rsplit('.').next().unwrap();
        let token = format!("{}.{}.{sig}", b64(header), b64(claims.clone()));
        assert_unauthenticated(f.verifier.verify(&token), "alg none, stolen signature");
    }
}

#[test]
fn rejects_hs256_signed_with_the_public_key() {
    let f = fixture();
    let claims = claims_for(&f, &principal());
    let public = KEY_A.verifying_key();
    let spki_pem = public.to_public_pem().unwrap();
    let jwk = public.to_jwk();
    // Every form of the public key an attacker might use as the HMAC secret.
    let secrets: Vec<Vec<u8>> = vec![
        spki_pem.clone().into_bytes(),
        spki_pem.trim_end().as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(&jwk.n).unwrap(),
        serde_json::to_vec(&jwk).unwrap(),
    ];
    for secret in secrets {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("key-a".into());
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert_unauthenticated(f.verifier.verify(&token), "HS256 with public key");
    }
}

#[test]
fn rejects_unknown_and_missing_kid() {
    let f = fixture();
    let claims = claims_for(&f, &principal());
    let attacker = TokenIssuer::new(
        Arc::new(KeySet::new(KEY_B.clone())),
        TokenConfig::new(ISS, AUD),
        f.clock.shared(),
    );
    let token = attacker.sign(&claims).unwrap();
    assert_unauthenticated(f.verifier.verify(&token), "unknown kid");

    let header = Header::new(Algorithm::RS256);
    let der = KEY_A.private.to_pkcs1_der().unwrap();
    let token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap();
    assert_unauthenticated(f.verifier.verify(&token), "no kid");
}

#[test]
fn rejects_a_known_kid_signed_by_another_key() {
    let f = fixture();
    let claims = claims_for(&f, &principal());
    let der = KEY_B.private.to_pkcs1_der().unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("key-a".into());
    let token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap();
    assert_unauthenticated(f.verifier.verify(&token), "forged with another key");
}

#[test]
fn rejects_wrong_audience_and_issuer() {
    let f = fixture();
    let p = principal();
    for config in [
        TokenConfig::new(ISS, "another-app"),
        TokenConfig::new("https://evil.test", AUD),
    ] {
        let other = TokenIssuer::new(f.keys.clone(), config, f.clock.shared());
        let token = other.issue(&p).unwrap().token;
        assert_unauthenticated(f.verifier.verify(&token), "wrong iss/aud");
    }
}

#[test]
fn rejects_tampered_payload_and_signature() {
    let f = fixture();
    let token = f.issuer.issue(&principal()).unwrap().token;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);

    // Payload: become another user, keep the signature.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = serde_json::Value::String(UserId::new().to_string());
    let forged = format!("{}.{}.{}", parts[0], b64(claims), parts[2]);
    assert_unauthenticated(f.verifier.verify(&forged), "tampered payload");

    // Payload: extend the expiry.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["exp"] = serde_json::json!(T0 + 86_400);
    let forged = format!("{}.{}.{}", parts[0], b64(claims), parts[2]);
    assert_unauthenticated(f.verifier.verify(&forged), "extended exp");

    // Signature: flip one byte.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[10] ^= 0x01;
    let forged = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_unauthenticated(f.verifier.verify(&forged), "tampered signature");

    // Truncated or empty signature.
    let forged = format!("{}.{}.", parts[0], parts[1]);
    assert_unauthenticated(f.verifier.verify(&forged), "no signature");

    // The genuine token still verifies (the checks above are not vacuous).
    assert!(f.verifier.verify(&token).is_ok());
}

#[test]
fn rejects_garbage() {
    let f = fixture();
    for token in ["", "abc", "a.b", "a.b.c", "...", "Bearer x.y.z"] {
        assert_unauthenticated(f.verifier.verify(token), token);
    }
}

#[test]
fn rejects_ids_that_are_not_uuids() {
    let f = fixture();
    let mut claims = claims_for(&f, &principal());
    claims.sub = "admin".into();
    let token = f.issuer.sign(&claims).unwrap();
    assert_unauthenticated(f.verifier.verify(&token), "sub is not a UUID");
}

#[test]
fn rotation_keeps_old_tokens_valid_until_the_key_is_retired() {
    let f = fixture();
    let p = principal();
    let old_token = f.issuer.issue(&p).unwrap().token;

    let rotated = Arc::new(KeySet::new(KEY_A.clone()).rotate(KEY_B.clone()));
    assert_eq!(rotated.active().kid(), "key-b");
    assert_eq!(rotated.verification_keys().len(), 2);
    let config = TokenConfig::new(ISS, AUD);
    let issuer = TokenIssuer::new(rotated.clone(), config.clone(), f.clock.shared());
    let verifier = TokenVerifier::for_key_set(&*rotated, config.clone(), f.clock.shared());
    let new_token = issuer.issue(&p).unwrap().token;
    let kid = jsonwebtoken::decode_header(&new_token).unwrap().kid;
    assert_eq!(kid.as_deref(), Some("key-b"));
    assert_eq!(verifier.verify(&old_token).unwrap(), p);
    assert_eq!(verifier.verify(&new_token).unwrap(), p);

    let retired = KeySet::new(KEY_A.clone())
        .rotate(KEY_B.clone())
        .retire("key-a");
    let verifier = TokenVerifier::for_key_set(&retired, config, f.clock.shared());
    assert_unauthenticated(verifier.verify(&old_token), "retired key");
    assert_eq!(verifier.verify(&new_token).unwrap(), p);
}

#[test]
fn jwks_publishes_every_verification_key_and_verifies_tokens() {
    let f = fixture();
    let keys = KeySet::new(KEY_B.clone()).with_verification_key(KEY_A.verifying_key().clone());
    let jwks = keys.jwks();
    let entries = jwks["keys"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert_eq!(entry["kty"], "RSA");
        assert_eq!(entry["use"], "sig");
        assert_eq!(entry["alg"], "RS256");
        assert_eq!(entry["e"], "AQAB");
        // 2048-bit modulus = 256 bytes = 342 base64url characters.
        assert_eq!(entry["n"].as_str().unwrap().len(), 342);
        assert!(
            entry.get("d").is_none(),
            "private parts must never be published"
        );
    }
    let kids: Vec<&str> = entries.iter().map(|e| e["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["key-b", "key-a"]);

    // Another service verifies locally from the JWK set alone.
    let remote = VerificationKeys::from_jwks(&jwks.to_string()).unwrap();
    let verifier = TokenVerifier::new(remote, TokenConfig::new(ISS, AUD), f.clock.shared());
    let p = principal();
    let token = f.issuer.issue(&p).unwrap().token;
    assert_eq!(verifier.verify(&token).unwrap(), p);

    // And an independent JWT implementation agrees with the published n/e.
    let a = entries.iter().find(|e| e["kid"] == "key-a").unwrap();
    let key = DecodingKey::from_rsa_components(a["n"].as_str().unwrap(), "AQAB").unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[AUD]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<AccessClaims>(&token, &key, &validation).unwrap();
}

#[test]
fn jwks_parsing_skips_foreign_keys_and_rejects_malformed_ones() {
    let json = serde_json::json!({"keys": [
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "x", "y": "y"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
    ]});
    assert!(
        VerificationKeys::from_jwks(&json.to_string())
            .unwrap()
            .is_empty()
    );
    let bad = serde_json::json!({"keys": [{"kty": "RSA", "kid": "x", "n": "!!", "e": "AQAB"}]});
    assert!(VerificationKeys::from_jwks(&bad.to_string()).is_err());
    assert!(VerificationKeys::from_jwks("{}").is_err());
    assert!(VerificationKeys::from_jwks("not json").is_err());
}

#[test]
fn keys_round_trip_through_pem() {
    let f = fixture();
    let pem = KEY_A.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let loaded = SigningKey::from_pem("key-a", &pem).unwrap();
    let issuer = TokenIssuer::new(
        Arc::new(KeySet::new(loaded)),
        TokenConfig::new(ISS, AUD),
        f.clock.shared(),
    );
    let p = principal();
    assert_eq!(
        f.verifier.verify(&issuer.issue(&p).unwrap().token).unwrap(),
        p
    );

    let public_pem = KEY_A.verifying_key().to_public_pem().unwrap();
    let public = VerifyingKey::from_pem("key-a", &public_pem).unwrap();
    assert_eq!(public.to_jwk(), KEY_A.verifying_key().to_jwk());

    assert!(
        SigningKey::from_pem(
            "k",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
        )
        .is_err()
    );
    assert!(SigningKey::from_pem("", &pem).is_err(), "empty kid");
    assert!(
        VerifyingKey::from_pem("k", &pem).is_err(),
        "a private key is not a public key"
    );
}

#[test]
fn small_keys_are_refused() {
    use rsa::pkcs8::EncodePrivateKey;
    let small = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let pem = small.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let err = SigningKey::from_pem("small", &pem).unwrap_err();
    assert!(err.message().contains("2048"), "{}", err.message());
}

#[test]
fn debug_output_never_shows_key_material() {
    let debug = format!("{:?} {:?}", *KEY_A, KeySet::new(KEY_A.clone()));
    assert!(debug.contains("key-a"));
    let n = KEY_A.verifying_key().to_jwk().n;
    assert!(!debug.contains(&n[..40]), "{debug}");
    assert!(!debug.contains("PRIVATE"), "{debug}");
}
