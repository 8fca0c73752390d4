//! Stdio framing for the server, as `lsp_server::Connection::stdio` does it but
//! with bounds: a `Content-Length` over [`MAX_MESSAGE`] is skipped without any
//! memory taken for it (the crate's own reader allocates whatever a header says),
//! and a message that is not JSON-RPC is answered with an error (a request) or
//! dropped (anything else), said on stderr in a line of bounded length, and the
//! server goes on. Only input that cannot be framed at all (no `Content-Length`)
//! ends it.

use lsp_server::{Connection, ErrorCode, Message, RequestId, Response};
use serde_json::Value;
use std::io::{BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The largest message read: the largest source file, JSON-escaped, with room.
pub const MAX_MESSAGE: usize = 4 * crate::loader::MAX_SOURCE as usize + (1 << 20);

/// Why the reader stopped, when the input was not LSP.
pub type Failure = Arc<Mutex<Option<std::io::Error>>>;

/// What one framed message turned out to be.
#[derive(Debug)]
enum Framed {
    Message(Message),
    /// Not a message; a request's id, when one could be read, to answer.
    Refused(String, Option<RequestId>),
}

/// The connection, the writer thread (ending with an error when writing failed)
/// and where the reader leaves why it stopped, if the input was not LSP. The
/// reader is not joined: a client may keep its end open after `exit`.
pub fn stdio() -> (Connection, JoinHandle<std::io::Result<()>>, Failure) {
    let (to_server, from_client) = crossbeam_channel::bounded::<Message>(0);
    let (to_client, from_server) = crossbeam_channel::bounded::<Message>(0);
    let failure: Failure = Arc::default();
    let left = failure.clone();
    let answers = to_client.clone();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut stdin = stdin.lock();
        loop {
            match read(&mut stdin) {
                Ok(Some(Framed::Message(message))) => {
                    let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                    if to_server.send(message).is_err() || exit {
                        break;
                    }
                }
                Ok(Some(Framed::Refused(why, id))) => {
                    eprintln!("wfc lsp: {why}");
                    if let Some(id) = id {
                        let code = ErrorCode::InvalidRequest as i32;
                        let answer = Response::new_err(id, code, why);
                        if answers.send(Message::Response(answer)).is_err() {
                            break;
                        }
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    // Said before the channel closes, so the server finds it.
                    *left.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
                    break;
                }
            }
        }
        drop(to_server);
    });
    let writer = std::thread::spawn(move || {
        let mut stdout = std::io::stdout().lock();
        for message in from_server {
            message.write(&mut stdout)?;
        }
        stdout.flush()
    });
    let connection = Connection {
        sender: to_client,
        receiver: from_client,
    };
    (connection, writer, failure)
}

/// One framed message, or `None` at the end of the input between messages. An
/// error is input that cannot be framed: what follows it cannot be found.
fn read(input: &mut impl BufRead) -> std::io::Result<Option<Framed>> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        // A header line is short; a longer one is not a header.
        if input.by_ref().take(1024).read_line(&mut line)? == 0 {
            return match length {
                None => Ok(None),
                Some(_) => Err(invalid("the input ended inside a message's headers".into())),
            };
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            let shown: String = header.chars().take(80).collect();
            return Err(invalid(format!("malformed header: {shown:?}")));
        };
        if name.eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            let shown: String = value.chars().take(40).collect();
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| invalid(format!("`Content-Length: {shown}` is not a length")))?,
            );
        }
    }
    let length = length.ok_or_else(|| invalid("a message without Content-Length".into()))?;
    if length > MAX_MESSAGE as u64 {
        // Read past, a buffer at a time: the next message starts after it.
        let skipped = std::io::copy(&mut input.by_ref().take(length), &mut std::io::sink())?;
        if skipped < length {
            return Err(invalid("the input ended inside a message".into()));
        }
        let why = format!("skipped a message of {length} bytes; at most {MAX_MESSAGE} are read");
        return Ok(Some(Framed::Refused(why, None)));
    }
    let mut body = Vec::new();
    input.by_ref().take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Err(invalid("the input ended inside a message".into()));
    }
    Ok(Some(message(&body)))
}

/// A body as a message; what is wrong with it otherwise, in words that quote
/// none of it (a client may send megabytes of anything).
fn message(body: &[u8]) -> Framed {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            return Framed::Refused(
                format!("dropped a message that is not JSON ({error})"),
                None,
            )
        }
    };
    let id = match value.get("id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(RequestId::from),
        Some(Value::String(s)) if s.len() <= 256 => Some(RequestId::from(s.clone())),
        _ => None,
    };
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Framed::Message(message),
        Err(error) => {
            let mut why = format!("a message that is not JSON-RPC: {error}");
            why.truncate(crate::source::floor_char_boundary(&why, 300));
            Framed::Refused(why, id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{read, Framed, MAX_MESSAGE};

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn a_huge_length_is_skipped_without_being_held() {
        let huge = format!("Content-Length: {}\r\n\r\n{{}}", MAX_MESSAGE + 1);
        let error = read(&mut huge.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("ended inside"), "{error}");
        let short = "Content-Length: 10\r\n\r\n{}";
        assert!(read(&mut short.as_bytes()).is_err());
        assert!(read(&mut "".as_bytes()).unwrap().is_none());
        let exit = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let lower = format!("content-length: {}\r\n\r\n{exit}", exit.len());
        assert!(matches!(
            read(&mut lower.as_bytes()),
            Ok(Some(Framed::Message(_)))
        ));
    }

    #[test]
    fn a_message_that_is_not_json_rpc_is_refused_and_the_next_one_read() {
        let text = framed("hello")
            + &framed(r#"{"jsonrpc":"2.0","id":7,"params":3}"#)
            + &framed(r#"{"jsonrpc":"2.0","method":"exit"}"#);
        let mut input = text.as_bytes();
        let Ok(Some(Framed::Refused(why, None))) = read(&mut input) else {
            panic!("not refused");
        };
        assert!(why.contains("not JSON") && !why.contains("hello"), "{why}");
        let Ok(Some(Framed::Refused(why, Some(id)))) = read(&mut input) else {
            panic!("not refused with its id");
        };
        assert_eq!(id, 7.into(), "{why}");
        assert!(matches!(read(&mut input), Ok(Some(Framed::Message(_)))));
    }
}
