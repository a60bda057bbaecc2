"""A tool server for the tests of pipe's MCP client, written with the official `mcp` package.

Its tools are the failure cases a real server may show: an error result, a crash, a hang, a
line on stdout that is not JSON-RPC, a huge result; and what a server sees of pipe: its
environment, its working directory, its process and process group, a child of its own.

    python3 server.py                 # over stdio
    python3 server.py --http PORT     # over Streamable HTTP on 127.0.0.1:PORT, path /mcp
"""

import json
import os
import subprocess
import sys

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

app = MCPServer("pipe-test-server")

# The SDK moves stdout out of a tool's reach (a stray print goes to stderr); a server that
# writes past it is what `garbage` plays, so it keeps its own handle on the pipe.
STDOUT = os.dup(1)


@app.tool()
def echo(text: str) -> str:
    """Returns its text."""
    return text


@app.tool()
def fail(message: str) -> str:
    """Reports an error result with this message."""
    raise ToolError(message)


@app.tool()
def crash(status: int = 3) -> str:
    """Ends the process at once with this exit status, after a word on stderr."""
    sys.stderr.write("crashing on purpose\n")
    sys.stderr.flush()
    os._exit(status)


@app.tool()
async def hang(marker: str) -> str:
    """Never answers; when the request is cancelled, writes `cancelled` to the file `marker`."""
    try:
        await anyio.sleep(3600)
    except anyio.get_cancelled_exc_class():
        with open(marker, "w") as file:
            file.write("cancelled")
        raise
    return "woke up"


@app.tool()
def garbage() -> str:
    """Writes a line that is not JSON-RPC to stdout, then answers."""
    os.write(STDOUT, b"this is not JSON-RPC\n")
    return "wrote garbage"


@app.tool()
def huge(size: int) -> str:
    """Returns `size` characters."""
    return "0123456789" * (size // 10) + "x" * (size % 10)


@app.tool()
def environment() -> str:
    """Returns the process's environment as a JSON object."""
    return json.dumps(dict(os.environ))


@app.tool()
def cwd() -> str:
    """Returns the process's working directory."""
    return os.getcwd()


@app.tool()
def process() -> str:
    """Returns the process's id and process group id as a JSON object."""
    return json.dumps({"pid": os.getpid(), "pgid": os.getpgid(0)})


@app.tool()
def spawn_child() -> str:
    """Starts a long `sleep` in the server's process group and returns its pid."""
    child = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return str(child.pid)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        app.run()
