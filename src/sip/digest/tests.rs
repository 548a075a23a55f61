//! Digest tests: published RFC vectors first, then real client headers,
//! junk, and the nonce life cycle.

use super::nonce::hmac_sha256;
use super::*;

const RFC2617_HEADER: &str = r#"Digest username="Mufasa",
     realm="testrealm@host.com",
     nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
     uri="/dir/index.html",
     qop=auth,
     nc=00000001,
     cnonce="0a4f113b",
     response="6629fae49393a05397450978507c4ef1",
     opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

#[test]
fn rfc2617_section_3_5_example() {
    let ha1 = ha1_hex(
        DigestAlgorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
    );
    assert_eq!(ha1, "939e7578ed9e3c518a452acee763bce9");
    let qop = QopParams {
        qop: "auth",
        nc: "00000001",
        cnonce: "0a4f113b",
    };
    let response = expected_response(
        DigestAlgorithm::Md5,
        &ha1,
        "GET",
        "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        Some(&qop),
    );
    assert_eq!(response, "6629fae49393a05397450978507c4ef1");

    let parsed = parse_authorization(RFC2617_HEADER);
    let Ok(resp) = parsed else {
        panic!("RFC 2617 header must parse: {parsed:?}")
    };
    assert_eq!(resp.username, "Mufasa");
    assert_eq!(resp.algorithm, DigestAlgorithm::Md5);
    assert_eq!(resp.nonce_count(), Some(1));
    assert_eq!(
        resp.opaque.as_deref(),
        Some("5ccc069c403ebaf9f0171e9517f40e41")
    );
    assert!(verify(&resp, &ha1, "GET"));
    assert!(!verify(&resp, &ha1, "POST"), "method is covered by HA2");
    let wrong = ha1_hex(
        DigestAlgorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle of Life",
    );
    assert!(!verify(&resp, &wrong, "GET"));
}

#[test]
fn rfc2069_form_without_qop() {
    // H(HA1:nonce:HA2) with the RFC 2617 inputs, cross-checked with Python's hashlib.
    let ha1 = "939e7578ed9e3c518a452acee763bce9";
    let nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    let response = expected_response(
        DigestAlgorithm::Md5,
        ha1,
        "GET",
        "/dir/index.html",
        nonce,
        None,
    );
    assert_eq!(response, "670fd8c2df070c60b045671b8b24ff02");
}

#[test]
fn rfc7616_section_3_9_1_sha256_and_md5() {
    let header = r#"Digest username="Mufasa", realm="http-auth@example.org",
       uri="/dir/index.html", algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    let Ok(resp) = parse_authorization(header) else {
        panic!("RFC 7616 header must parse")
    };
    assert_eq!(resp.algorithm, DigestAlgorithm::Sha256);
    let sha_ha1 = ha1_hex(
        DigestAlgorithm::Sha256,
        "Mufasa",
        "http-auth@example.org",
        "Circle of Life",
    );
    assert_eq!(sha_ha1.len(), 64);
    assert!(verify(&resp, &sha_ha1, "GET"));

    // The same exchange with MD5 (RFC 7616 §3.9.1, first response).
    let md5_header = header
        .replace("algorithm=SHA-256", "algorithm=MD5")
        .replace(
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            "8ca523f5e9506fed4657c9700eebdbec",
        );
    let Ok(md5_resp) = parse_authorization(&md5_header) else {
        panic!("MD5 variant must parse")
    };
    let md5_ha1 = ha1_hex(
        DigestAlgorithm::Md5,
        "Mufasa",
        "http-auth@example.org",
        "Circle of Life",
    );
    assert!(verify(&md5_resp, &md5_ha1, "GET"));
    assert!(!verify(&md5_resp, &sha_ha1, "GET"));
}

#[test]
fn algorithm_names() {
    assert_eq!(DigestAlgorithm::parse("md5"), Some(DigestAlgorithm::Md5));
    assert_eq!(
        DigestAlgorithm::parse("SHA-256"),
        Some(DigestAlgorithm::Sha256)
    );
    assert_eq!(
        DigestAlgorithm::parse("sha256"),
        Some(DigestAlgorithm::Sha256)
    );
    assert_eq!(DigestAlgorithm::parse("MD5-sess"), None);
    assert_eq!(DigestAlgorithm::parse("SHA-512-256"), None);
}

#[test]
fn baresip_and_linphone_header_lines() {
    // Shapes as captured from baresip (no spaces, unquoted qop/nc/algorithm)
    // and Linphone (algorithm first, double spaces).
    let baresip = r#"Digest username="agent1",realm="cc.test",nonce="abc123",uri="sip:127.0.0.1:15060",response="5f099b13372b1fbd9246f5434f4831bf",algorithm=MD5,cnonce="0a4f113b",qop=auth,nc=00000001"#;
    let linphone = r#"Digest realm="cc.test", nonce="abc123", algorithm=MD5, username="agent1",  uri="sip:127.0.0.1:15060", response="5F099B13372B1FBD9246F5434F4831BF", cnonce="0a4f113b", nc=00000001, qop=auth"#;
    let ha1 = ha1_hex(DigestAlgorithm::Md5, "agent1", "cc.test", "secret");
    assert_eq!(ha1, "5fad790d0f64a6b09722214865b75234");
    for header in [baresip, linphone] {
        let Ok(resp) = parse_authorization(header) else {
            panic!("must parse: {header}")
        };
        assert_eq!(resp.uri, "sip:127.0.0.1:15060");
        assert!(verify(&resp, &ha1, "REGISTER"), "{header}");
    }
}

#[test]
fn quoted_strings_with_escapes_commas_and_unknown_params() {
    let header = r#"digest  foo=bar, username="a\"b\\c", realm="r,=1", nonce=n1, uri="sip:x", response="00", x-ext="q, \"z\"", algorithm="sha-256""#;
    let Ok(resp) = parse_authorization(header) else {
        panic!("must parse")
    };
    assert_eq!(resp.username, r#"a"b\c"#);
    assert_eq!(resp.realm, "r,=1");
    assert_eq!(resp.nonce, "n1");
    assert_eq!(resp.algorithm, DigestAlgorithm::Sha256);
    assert_eq!(resp.qop, None);
}

#[test]
fn junk_is_an_error_never_a_panic() {
    let cases: [(&str, DigestError); 11] = [
        ("", DigestError::NotDigest),
        ("Basic QWxhZGRpbjpvcGVu", DigestError::NotDigest),
        ("Digest", DigestError::MissingField("username")),
        (
            r#"Digest username="a"#,
            DigestError::Malformed("unterminated quoted string"),
        ),
        (
            r#"Digest username="a\"#,
            DigestError::Malformed("dangling backslash"),
        ),
        (
            "Digest =x",
            DigestError::Malformed("expected a parameter name"),
        ),
        (
            "Digest username",
            DigestError::Malformed("expected '=' after a parameter name"),
        ),
        (
            r#"Digest username="a" realm="b""#,
            DigestError::Malformed("expected ',' between parameters"),
        ),
        (
            r#"Digest username=a, username=b"#,
            DigestError::Malformed("duplicate parameter"),
        ),
        (
            r#"Digest username=a,realm=b,nonce=c,uri=d,response=e,algorithm=MD5-sess"#,
            DigestError::UnsupportedAlgorithm,
        ),
        (
            r#"Digest username=a,realm=b,nonce=c,uri=d,response=e,qop=auth,cnonce=x,nc=1"#,
            DigestError::BadNonceCount,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_authorization(input), Err(expected), "{input:?}");
    }
    let no_cnonce = "Digest username=a,realm=b,nonce=c,uri=d,response=e,qop=auth,nc=00000001";
    assert_eq!(
        parse_authorization(no_cnonce),
        Err(DigestError::MissingField("cnonce"))
    );
    let long = format!("Digest username=\"{}\"", "a".repeat(5000));
    assert_eq!(parse_authorization(&long), Err(DigestError::TooLong));
}

#[test]
fn random_bytes_never_panic() {
    // Deterministic xorshift over an alphabet rich in delimiters.
    let alphabet = "Digest =,\"\\ \tusernamerealmqopnc0123456789abcdef\u{fa}";
    let chars: Vec<char> = alphabet.chars().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut text = String::from("Digest ");
        for _ in 0..(state % 60) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = usize::try_from(state % chars.len() as u64).unwrap_or(0);
            text.push(chars.get(index).copied().unwrap_or(' '));
        }
        let _ = parse_authorization(&text);
        state = state.wrapping_add(1);
    }
}

#[test]
fn unsupported_qop_never_verifies() {
    let Ok(mut resp) = parse_authorization(RFC2617_HEADER) else {
        panic!("must parse")
    };
    resp.qop = Some("auth-int".to_string());
    assert!(!verify(&resp, "939e7578ed9e3c518a452acee763bce9", "GET"));
}

#[test]
fn constant_time_eq_compares_whole_inputs() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(!constant_time_eq(b"", b"a"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn challenge_values_list_sha256_then_md5() {
    let values = challenge_values("cc.test", "n\"1", false);
    assert_eq!(
        values,
        vec![
            r#"Digest realm="cc.test", nonce="n\"1", algorithm=SHA-256, qop="auth""#.to_string(),
            r#"Digest realm="cc.test", nonce="n\"1", algorithm=MD5, qop="auth""#.to_string(),
        ]
    );
    let stale = challenge_values("cc.test", "n", true);
    assert!(stale.iter().all(|v| v.ends_with(", stale=true")));
}

#[test]
fn hmac_sha256_rfc4231_vectors() {
    // RFC 4231 test cases 2 and 6 (key longer than the block).
    let case2 = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    assert_eq!(
        to_hex(&case2),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let case6 = hmac_sha256(
        &[0xaa; 131],
        b"Test Using Larger Than Block-Size Key - Hash Key First",
    );
    assert_eq!(
        to_hex(&case6),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn nonce_valid_then_replay_refused() {
    let mut issuer = NonceIssuer::new([7; 32]);
    let nonce = issuer.issue(1_000);
    assert_eq!(nonce.len(), 64);
    assert_eq!(issuer.check(&nonce, 1, 1_500), NonceCheck::Valid);
    assert_eq!(issuer.check(&nonce, 1, 1_600), NonceCheck::Replayed);
    assert_eq!(issuer.check(&nonce, 2, 1_700), NonceCheck::Valid);
    assert_eq!(issuer.check(&nonce, 2, 1_800), NonceCheck::Replayed);
    assert_eq!(issuer.check(&nonce, 5, 1_900), NonceCheck::Valid);
    let fresh = issuer.issue(2_000);
    assert_ne!(fresh, nonce);
    assert_eq!(issuer.check(&fresh, 0, 2_000), NonceCheck::Replayed);
}

#[test]
fn nonce_expires_into_stale() {
    let mut issuer = NonceIssuer::new([1; 32]).with_lifetime_ms(10_000);
    let nonce = issuer.issue(50_000);
    assert_eq!(issuer.check(&nonce, 1, 60_000), NonceCheck::Valid);
    assert_eq!(issuer.check(&nonce, 2, 60_001), NonceCheck::Stale);
    let unused = issuer.issue(70_000);
    assert_eq!(issuer.check(&unused, 1, 80_001), NonceCheck::Stale);
}

#[test]
fn forged_or_foreign_nonces_are_invalid() {
    let mut issuer = NonceIssuer::new([2; 32]);
    let mut other = NonceIssuer::new([3; 32]);
    let nonce = issuer.issue(0);
    assert_eq!(issuer.check(&other.issue(0), 1, 0), NonceCheck::Invalid);
    // Flip one hex digit of the timestamp: the MAC no longer matches.
    let forged: String = nonce
        .char_indices()
        .map(|(i, c)| {
            if i == 15 {
                if c == '0' {
                    '1'
                } else {
                    '0'
                }
            } else {
                c
            }
        })
        .collect();
    assert_eq!(issuer.check(&forged, 1, 0), NonceCheck::Invalid);
    for junk in [
        "",
        "abc",
        "zz",
        &"0".repeat(64),
        &format!("+{}", &nonce[1..]),
    ] {
        assert_eq!(issuer.check(junk, 1, 0), NonceCheck::Invalid, "{junk}");
    }
    assert_eq!(issuer.check(&nonce, 1, 0), NonceCheck::Valid);
}

#[test]
fn replay_state_is_pruned_once_expired() {
    let mut issuer = NonceIssuer::new([4; 32]).with_lifetime_ms(1_000);
    let nonces: Vec<String> = (0..100).map(|i| issuer.issue(i)).collect();
    for nonce in &nonces {
        assert_eq!(issuer.check(nonce, 1, 500), NonceCheck::Valid);
    }
    assert_eq!(issuer.tracked(), 100);
    let late = issuer.issue(5_000);
    assert_eq!(issuer.check(&late, 1, 5_000), NonceCheck::Valid);
    assert_eq!(issuer.tracked(), 1);
    // Pruned entries stay refused: they are expired, not forgotten.
    assert_eq!(issuer.check(&nonces[0], 2, 5_000), NonceCheck::Stale);
}

#[test]
fn eviction_over_the_cap_never_reopens_a_replay() {
    let mut issuer = NonceIssuer::new([5; 32]);
    issuer.max_tracked = 3;
    let nonces: Vec<String> = (0..5).map(|i| issuer.issue(i)).collect();
    for nonce in &nonces {
        assert_eq!(issuer.check(nonce, 1, 10), NonceCheck::Valid);
    }
    assert_eq!(issuer.tracked(), 3);
    // The two oldest were evicted before expiry: refused, not re-accepted.
    assert_eq!(issuer.check(&nonces[0], 1, 20), NonceCheck::Stale);
    assert_eq!(issuer.check(&nonces[1], 2, 20), NonceCheck::Stale);
    assert_eq!(issuer.check(&nonces[4], 1, 20), NonceCheck::Replayed);
    assert_eq!(issuer.check(&nonces[4], 2, 20), NonceCheck::Valid);
}

#[test]
fn nonces_hide_issue_time_and_count() {
    // A scanner collecting challenges must learn neither the uptime nor how many challenges were
    // sent: in the old clear format the leading time digits and the counter's high digits stayed
    // the same from nonce to nonce. Here no hex position is constant over many nonces, even when
    // all are issued in the same millisecond or years apart.
    let mut issuer = NonceIssuer::new([9; 32]);
    let same_time: Vec<String> = (0..256).map(|_| issuer.issue(5_000)).collect();
    let far_apart: Vec<String> = (0..256u64)
        .map(|i| issuer.issue(i * 3_600_000_000))
        .collect();
    for batch in [&same_time, &far_apart] {
        for position in 0..64 {
            let first = batch[0].as_bytes()[position];
            assert!(
                batch.iter().any(|n| n.as_bytes()[position] != first),
                "hex digit {position} never changes"
            );
        }
    }
    // Neither the time nor the counter appears in clear.
    let nonce = issuer.issue(0x0123_4567_89ab);
    assert!(!nonce.contains("0123456789ab"), "{nonce}");
    assert!(!nonce.contains(&format!("{:016x}", 512)), "{nonce}");
    // Sealed or not, the nonce still verifies, keeps its replay state and expires.
    assert_eq!(issuer.check(&nonce, 1, 0x0123_4567_89ab), NonceCheck::Valid);
    assert_eq!(
        issuer.check(&nonce, 1, 0x0123_4567_89ab),
        NonceCheck::Replayed
    );
    let late = 0x0123_4567_89ab + issuer.lifetime_ms() + 1;
    assert_eq!(issuer.check(&nonce, 2, late), NonceCheck::Stale);
}

#[test]
fn a_nonce_sealed_under_another_counter_or_time_is_invalid() {
    // Splicing the sealed half of one nonce onto the tag of another never verifies: the tag
    // authenticates the whole payload.
    let mut issuer = NonceIssuer::new([10; 32]);
    let a = issuer.issue(1_000);
    let b = issuer.issue(2_000);
    let spliced = format!("{}{}", &a[..32], &b[32..]);
    assert_eq!(issuer.check(&spliced, 1, 2_000), NonceCheck::Invalid);
    let swapped = format!("{}{}", &b[..32], &a[32..]);
    assert_eq!(issuer.check(&swapped, 1, 2_000), NonceCheck::Invalid);
    assert_eq!(issuer.check(&a, 1, 2_000), NonceCheck::Valid);
    assert_eq!(issuer.check(&b, 1, 2_000), NonceCheck::Valid);
}
