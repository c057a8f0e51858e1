use std::sync::atomic::{AtomicUsize, Ordering};

use nova_core::ErrorKind;

use super::*;

fn field_of(err: &Error) -> Option<&str> {
    err.field()
}

#[test]
fn length_is_counted_in_characters_not_bytes() {
    let eleven = "abcdefghijk";
    assert!(check_policy(eleven, "alice", "alice@example.com").is_err());
    assert!(check_policy("abcdefghijkz", "alice", "alice@example.com").is_ok());
    // 11 two-byte characters are 22 bytes but still too short.
    let accented = "é".repeat(11);
    let err = check_policy(&accented, "alice", "alice@example.com").unwrap_err();
    assert_eq!(field_of(&err), Some("password"));
    assert!(err.message().contains("at least 12"), "{}", err.message());
    // 128 four-byte characters (512 bytes) are allowed; 129 are not.
    let emoji = "🦀".repeat(128);
    assert!(check_policy(&emoji, "alice", "alice@example.com").is_ok());
    let err = check_policy(&format!("{emoji}🦀"), "alice", "alice@example.com").unwrap_err();
    assert!(err.message().contains("at most 128"), "{}", err.message());
}

#[test]
fn common_breached_passwords_are_rejected_case_insensitively() {
    assert!(
        common_password_count() >= 2_000,
        "{}",
        common_password_count()
    );
    for pw in [
        "password123456",
        "123456789012",
        "qwertyuiopas",
        "Password123456",
        "QWERTY123456",
        "iloveyou1234",
        "1q2w3e4r5t6y",
    ] {
        let err = check_policy(pw, "someone", "someone@example.com").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::InvalidArgument {
                field: "password".into()
            }
        );
        assert!(
            err.message().contains("too common"),
            "{pw}: {}",
            err.message()
        );
    }
    assert!(!is_common_password("violet-harbour-tram-42"));
    assert!(check_policy("violet-harbour-tram-42", "someone", "someone@example.com").is_ok());
}

#[test]
fn username_and_email_local_part_are_rejected() {
    let err = check_policy("alice_smith1234", "alice_smith", "a@example.com").unwrap_err();
    assert!(err.message().contains("username"), "{}", err.message());
    let err = check_policy("xxALICE_SMITHxx", "alice_smith", "a@example.com").unwrap_err();
    assert!(err.message().contains("username"), "{}", err.message());
    let err = check_policy("bob.jones-likes-tea", "bobby", "Bob.Jones@example.com").unwrap_err();
    assert!(err.message().contains("email"), "{}", err.message());
    let err = check_policy("carol.danvers", "x", "carol.danvers@example.com").unwrap_err();
    assert!(err.message().contains("email"), "{}", err.message());
    // A two-letter username does not forbid every password containing those letters.
    assert!(check_policy("jolly good fellow", "jo", "j@example.com").is_ok());
}

#[test]
fn hash_then_verify_round_trips_with_owasp_parameters() {
    let passwords = Passwords::owasp();
    let phc = passwords.hash_blocking("correct horse battery").unwrap();
    assert!(
        phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "unexpected PHC string {phc}"
    );
    assert!(
        passwords
            .verify_blocking("correct horse battery", &phc)
            .unwrap()
    );
    assert!(
        !passwords
            .verify_blocking("correct horse batterz", &phc)
            .unwrap()
    );
    // A fresh salt each time.
    let again = passwords.hash_blocking("correct horse battery").unwrap();
    assert_ne!(phc, again);
    assert!(!passwords.needs_rehash(&phc));
}

#[test]
fn needs_rehash_when_parameters_differ() {
    let weak = Passwords::with_params(8, 1, 1).unwrap();
    let old = weak.hash_blocking("correct horse battery").unwrap();
    assert!(old.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{old}");
    assert!(needs_rehash(&old));
    assert!(!weak.needs_rehash(&old));
    // Old hashes still verify under the current configuration (their own parameters apply).
    assert!(
        Passwords::owasp()
            .verify_blocking("correct horse battery", &old)
            .unwrap()
    );
    // Other algorithms and garbage need a rehash.
    let argon2i =
        "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
    assert!(needs_rehash(argon2i));
    assert!(needs_rehash("$2b$12$abcdefghijklmnopqrstuv"));
    assert!(needs_rehash("not a hash"));
}

#[test]
fn a_malformed_stored_hash_is_an_internal_error() {
    let err = Passwords::owasp()
        .verify_blocking("whatever password", "$argon2id$garbage")
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Internal);
}

#[test]
fn invalid_parameters_are_rejected() {
    assert!(Passwords::with_params(0, 0, 0).is_err());
}

#[test]
fn dummy_hash_costs_as_much_as_a_real_one() {
    let passwords = Passwords::owasp();
    passwords.warm_up().unwrap();
    let dummy = passwords.dummy_hash().unwrap().to_owned();
    // Same algorithm and parameters as real hashes, so the same verification time.
    assert!(!passwords.needs_rehash(&dummy), "{dummy}");
    assert!(!passwords.dummy_verify_blocking("guess").unwrap());
    // Computed once, then reused.
    assert_eq!(passwords.dummy_hash().unwrap(), dummy);
    assert_eq!(passwords.clone().dummy_hash().unwrap(), dummy);
}

#[tokio::test(flavor = "current_thread")]
async fn hashing_does_not_stall_the_runtime() {
    static TICKS: AtomicUsize = AtomicUsize::new(0);
    let ticker = tokio::spawn(async {
        loop {
            TICKS.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    });
    tokio::task::yield_now().await;
    let before = TICKS.load(Ordering::SeqCst);
    let phc = hash_password("correct horse battery").await.unwrap();
    let after = TICKS.load(Ordering::SeqCst);
    ticker.abort();
    // On a single-threaded runtime the ticker only advances if hashing ran elsewhere.
    assert!(
        after >= before + 2,
        "runtime stalled during hashing: {before} -> {after}"
    );
    assert!(
        verify_password("correct horse battery", &phc)
            .await
            .unwrap()
    );
    assert!(!verify_password("wrong horse battery", &phc).await.unwrap());
    assert!(!dummy_verify("correct horse battery").await);
}
