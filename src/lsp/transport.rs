//! Stdio framing for the server, as `lsp_server::Connection::stdio` does it but
//! with a bound: a `Content-Length` over [`MAX_MESSAGE`] is refused before any
//! memory is taken for it (the crate's own reader allocates whatever a header
//! says).

use lsp_server::{Connection, Message};
use std::io::{BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The largest message read: the largest source file, JSON-escaped, with room.
pub const MAX_MESSAGE: usize = 4 * crate::loader::MAX_SOURCE as usize + (1 << 20);

/// Why the reader stopped, when the input was not LSP.
pub type Failure = Arc<Mutex<Option<std::io::Error>>>;

/// The connection, the writer thread (ending with an error when writing failed)
/// and where the reader leaves why it stopped, if the input was not LSP. The
/// reader is not joined: a client may keep its end open after `exit`.
pub fn stdio() -> (Connection, JoinHandle<std::io::Result<()>>, Failure) {
    let (to_server, from_client) = crossbeam_channel::bounded::<Message>(0);
    let (to_client, from_server) = crossbeam_channel::bounded::<Message>(0);
    let failure: Failure = Arc::default();
    let left = failure.clone();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut stdin = stdin.lock();
        loop {
            match read(&mut stdin) {
                Ok(Some(message)) => {
                    let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                    if to_server.send(message).is_err() || exit {
                        break;
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

/// One message, or `None` at the end of the input between messages.
fn read(input: &mut impl BufRead) -> std::io::Result<Option<Message>> {
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
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                let value = value.trim();
                length =
                    Some(value.parse::<usize>().map_err(|_| {
                        invalid(format!("`Content-Length: {value}` is not a length"))
                    })?);
            }
        } else {
            return Err(invalid(format!("malformed header: {header:?}")));
        }
    }
    let length = length.ok_or_else(|| invalid("a message without Content-Length".into()))?;
    if length > MAX_MESSAGE {
        return Err(invalid(format!(
            "a message of {length} bytes; at most {MAX_MESSAGE} are read"
        )));
    }
    let mut body = Vec::new();
    input.by_ref().take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Err(invalid("the input ended inside a message".into()));
    }
    let mut framed = format!("Content-Length: {length}\r\n\r\n").into_bytes();
    framed.extend_from_slice(&body);
    Message::read(&mut framed.as_slice())
}

#[cfg(test)]
mod tests {
    use super::{read, MAX_MESSAGE};

    #[test]
    fn a_huge_length_is_refused_before_it_is_read() {
        let huge = format!("Content-Length: {}\r\n\r\n{{}}", MAX_MESSAGE + 1);
        let error = read(&mut huge.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("at most"), "{error}");
        let short = "Content-Length: 10\r\n\r\n{}";
        assert!(read(&mut short.as_bytes()).is_err());
        assert!(read(&mut "".as_bytes()).unwrap().is_none());
        let exit = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let framed = format!("content-length: {}\r\n\r\n{exit}", exit.len());
        assert!(read(&mut framed.as_bytes()).unwrap().is_some());
    }
}
