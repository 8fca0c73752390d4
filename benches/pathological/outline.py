"""Opens a file in `wfc lsp` and times its first diagnostics and its outline."""
import json, subprocess, sys, time, os
text = open(sys.argv[1]).read()
p = subprocess.Popen([sys.argv[2], "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def send(m):
    b = json.dumps(m).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b); p.stdin.flush()
def recv():
    n = None
    while True:
        l = p.stdout.readline().strip()
        if not l: break
        if l.lower().startswith(b"content-length"): n = int(l.split(b":")[1])
    return json.loads(p.stdout.read(n))
def wait(pred):
    while True:
        m = recv()
        if pred(m): return m
uri = "file://" + os.path.abspath(sys.argv[1])
send({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":None,"capabilities":{}}}); wait(lambda m: m.get("id")==1)
send({"jsonrpc":"2.0","method":"initialized","params":{}})
t=time.time()
send({"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":uri,"languageId":"wf","version":1,"text":text}}})
m=wait(lambda m: m.get("method")=="textDocument/publishDiagnostics")
print("diagnostics", len(m["params"]["diagnostics"]), "%.2fs" % (time.time()-t))
t=time.time()
send({"jsonrpc":"2.0","id":2,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":uri}}})
m=wait(lambda m: m.get("id")==2)
print("symbols", len(m["result"] or []), "%.2fs" % (time.time()-t))
send({"jsonrpc":"2.0","id":3,"method":"shutdown"}); wait(lambda m: m.get("id")==3)
send({"jsonrpc":"2.0","method":"exit"})
p.wait()
