//! Which callers can be sent a text. The IVR promises "the result will be sent by SMS" only to
//! them (`caller_takes_sms`), and the outbox queues texts only for them: a promise the centre
//! could not keep is never made.

/// The number a text can go to: an Iranian mobile number (`09` and nine digits, or the same in
/// international form), normalised to `09…`. Landlines and withheld numbers cannot take a text.
pub fn sms_recipient(number: &str) -> Option<String> {
    let digits: String = number
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let national = if let Some(rest) = digits.strip_prefix("+98") {
        format!("0{rest}")
    } else if let Some(rest) = digits.strip_prefix("0098") {
        format!("0{rest}")
    } else if digits.len() == 10 && digits.starts_with('9') {
        format!("0{digits}")
    } else {
        digits
    };
    (national.len() == 11
        && national.starts_with("09")
        && national.bytes().all(|b| b.is_ascii_digit()))
    .then_some(national)
}
