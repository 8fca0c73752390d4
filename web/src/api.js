// The server's JSON API, as the editor uses it: every answer parsed, an error
// answer thrown with the server's own words (and its body, for a conflict).
export class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function call(path, method = "GET", body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

/** A file's path as a URL path: each segment escaped, the slashes kept. */
export const filePath = (path) => "/files/" + path.split("/").map(encodeURIComponent).join("/");
