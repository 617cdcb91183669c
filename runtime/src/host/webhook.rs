//! Webhook signatures: `X-Weft-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw
//! body keyed by the environment's `WEFT_WEBHOOK_SECRET`, compared in constant time.

use hmac::Mac;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-weft-signature-256";

/// The header value signing `body` with `secret`: `sha256=<lowercase hex>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Whether `header` (the signature header's value, if any) signs `body` with `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() & 1 == 1 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_vector_signs_and_verifies() {
        // RFC 4231 test case 2.
        let header = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            header,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify(
            b"Jefe",
            b"what do ya want for nothing?",
            Some(&header)
        ));
        assert!(verify(
            b"Jefe",
            b"what do ya want for nothing?",
            Some(&header.to_uppercase().replace("SHA256=", "sha256="))
        ));
    }

    #[test]
    fn wrong_missing_or_malformed_signatures_fail() {
        let header = sign(b"key", b"body");
        assert!(!verify(b"key", b"body!", Some(&header)));
        assert!(!verify(b"other", b"body", Some(&header)));
        assert!(!verify(b"key", b"body", None));
        assert!(!verify(b"key", b"body", Some("sha256=zz")));
        assert!(!verify(
            b"key",
            b"body",
            Some(&header.replace("sha256=", "sha1="))
        ));
        assert!(!verify(b"key", b"body", Some(&header[..header.len() - 2])));
    }
}
