//! Calling a language model once, through an OpenAI-compatible chat-completions
//! API: the prompt rendered over the input, the declared output sent as a JSON
//! schema (structured output), the reply's text parsed as JSON. What the call
//! used is taken from the reply's `usage`, and kept on a failure too: a reply that
//! does not fit costs its tokens all the same.

use super::agent::{AgentCall, Answer, ComputeScope, Failure};
use super::error::ErrorKind;
use super::eval;
use super::http;
use super::secrets::{HeaderScope, Redact, Secrets};
use crate::ast::{TextBlock, TextPart};
use crate::program::LlmRequest;
use crate::store::Tokens;
use crate::types::Type;
use serde_json::{json, Value};

/// The field a non-object output travels in: structured output wants an object.
const WRAPPED: &str = "value";
/// How much of a reply that is not JSON a failure message quotes.
const QUOTED: usize = 200;

pub async fn call(request: &LlmRequest, call: &AgentCall<'_>) -> Result<Answer, Failure> {
    let secrets = Secrets::read(&call.agent.body);
    let asked = ask(request, call, &secrets).await;
    secrets.redact_result(asked)
}

impl Redact for Answer {
    fn redact(self, secrets: &Secrets) -> Answer {
        Answer {
            output: self.output.redact(secrets),
            ..self
        }
    }
}

async fn ask(
    request: &LlmRequest,
    call: &AgentCall<'_>,
    secrets: &Secrets,
) -> Result<Answer, Failure> {
    let scope = ComputeScope(call.input, call.clock);
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({ "role": "system", "content": render(system, &scope, call)? }));
    }
    let prompt = render(&request.prompt, &scope, call)?;
    messages.push(json!({ "role": "user", "content": prompt }));
    let output = &call.agent.output;
    let wrapped = !matches!(output, Type::Object(_) | Type::Any);
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "response_format": response_format(&call.agent.name, output, wrapped),
    });
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if let Some(max_tokens) = request.max_tokens {
        body["max_tokens"] = json!(max_tokens);
    }
    let client = http::client(secrets.sends_any())?;
    let mut builder = client.post(request.url.clone()).json(&body);
    if let Some(key) = &request.key {
        let key_scope = HeaderScope {
            compute: ComputeScope(call.input, call.clock),
            secrets,
        };
        let key = eval::eval(key, &key_scope)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| {
                Failure::new(
                    ErrorKind::Expression,
                    format!("the `key` of `{}` is not a string", call.agent.name),
                )
            })?;
        builder = builder.bearer_auth(key);
    }
    let reply = http::exchange(builder, &request.url, call.timeout).await?;
    let tokens = tokens(&reply, request);
    let with_tokens = |failure: Failure| Failure { tokens, ..failure };
    let text = reply_text(&reply, &request.url).map_err(with_tokens)?;
    let mut output = parse_reply(text).map_err(with_tokens)?;
    if wrapped {
        output = output.get_mut(WRAPPED).map(Value::take).ok_or_else(|| {
            with_tokens(Failure::new(
                ErrorKind::InvalidOutput,
                format!("the model's reply has no `{WRAPPED}` field"),
            ))
        })?;
    }
    Ok(Answer { output, tokens })
}

/// The template with each hole's value in place: a string as it is, anything
/// else as JSON.
fn render(
    template: &TextBlock,
    scope: &ComputeScope<'_>,
    call: &AgentCall<'_>,
) -> Result<String, Failure> {
    let mut text = String::new();
    for part in &template.parts {
        match part {
            TextPart::Text(t) => text.push_str(t),
            TextPart::Hole(expr) => match eval::eval(expr, scope) {
                Ok(Value::String(s)) => text.push_str(&s),
                Ok(other) => text.push_str(&other.to_string()),
                Err(error) => {
                    let message = format!("the prompt of `{}`: {}", call.agent.name, error.message);
                    return Err(Failure::new(ErrorKind::Expression, message));
                }
            },
        }
    }
    Ok(text)
}

/// Structured output where the declared shape allows it; a JSON object otherwise.
fn response_format(agent: &str, output: &Type, wrapped: bool) -> Value {
    let schema = if wrapped {
        output.json_schema().map(|inner| {
            json!({
                "type": "object",
                "properties": { WRAPPED: inner },
                "required": [WRAPPED],
                "additionalProperties": false,
            })
        })
    } else {
        output.json_schema()
    };
    match schema {
        Some(schema) => json!({
            "type": "json_schema",
            "json_schema": { "name": agent, "strict": true, "schema": schema },
        }),
        None => json!({ "type": "json_object" }),
    }
}

fn tokens(reply: &Value, request: &LlmRequest) -> Option<Tokens> {
    let usage = reply.get("usage")?;
    let input = usage.get("prompt_tokens")?.as_u64()?;
    let output = usage.get("completion_tokens")?.as_u64()?;
    Some(Tokens {
        input,
        output,
        cost_usd: request.price.map(|p| p.cost(input, output)),
    })
}

/// The text of the reply's first choice; a refusal or a reply cut short is an
/// output that does not fit.
fn reply_text<'r>(reply: &'r Value, url: &url::Url) -> Result<&'r str, Failure> {
    let invalid = |message: String| Failure::new(ErrorKind::InvalidOutput, message);
    let choice = reply
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| invalid(format!("the answer of {url} has no `choices`")))?;
    let message = &choice["message"];
    if let Some(refusal) = message["refusal"].as_str() {
        return Err(invalid(format!("the model refused: {refusal}")));
    }
    if choice["finish_reason"] == "length" {
        return Err(invalid(
            "the reply was cut off at the token limit (`max_tokens`)".to_string(),
        ));
    }
    message["content"]
        .as_str()
        .ok_or_else(|| invalid(format!("the answer of {url} has no message text")))
}

/// The reply's JSON; a fence some models put around it (```json … ```) is
/// taken off.
fn parse_reply(text: &str) -> Result<Value, Failure> {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(unfenced).map_err(|error| {
        let shown: String = trimmed.chars().take(QUOTED).collect();
        Failure::new(
            ErrorKind::InvalidOutput,
            format!("the model's reply is not JSON ({error}): `{shown}`"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_from_the_first_choice_and_fences_are_taken_off() {
        let url = url::Url::parse("http://model.test/v1/chat/completions").unwrap();
        let reply =
            json!({ "choices": [{ "message": { "content": "```json\n{\"a\": 1}\n```" } }] });
        let text = reply_text(&reply, &url).unwrap();
        assert_eq!(parse_reply(text).unwrap(), json!({ "a": 1 }));
        let cut =
            json!({ "choices": [{ "finish_reason": "length", "message": { "content": "{" } }] });
        assert!(reply_text(&cut, &url)
            .unwrap_err()
            .message
            .contains("max_tokens"));
        let refused = json!({ "choices": [{ "message": { "refusal": "no", "content": null } }] });
        assert_eq!(
            reply_text(&refused, &url).unwrap_err().kind,
            ErrorKind::InvalidOutput
        );
        assert!(parse_reply("Sure! {\"a\": 1}").is_err());
    }

    #[test]
    fn a_shape_with_any_falls_back_to_a_json_object_and_a_list_is_wrapped() {
        let any = response_format("a", &Type::Any, false);
        assert_eq!(any["type"], "json_object");
        let list = response_format("a", &Type::List(Box::new(Type::Number)), true);
        let schema = &list["json_schema"]["schema"];
        assert_eq!(schema["required"], json!(["value"]));
        assert_eq!(schema["properties"]["value"]["items"]["type"], "number");
    }
}
