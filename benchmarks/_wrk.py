"""Load from ``wrk`` (Debian package ``wrk``), the load generator every server benchmark uses.

``wrk`` is written in C and drives many connections from one thread, so it takes little of the
CPU the server under test needs (a Python client posting one request after another spends about
as much CPU per request as the server). Requests come from a file, one per line::

    METHOD <TAB> path <TAB> Name: value|Name: value <TAB> body

wrk thread *n* of *T* sends lines *n*, *n+T*, *n+2T*, ... An answer counts as valid when its
status is the expected one and, if a marker is given, its body contains the marker.

Two ways to end a run:

* ``seconds``: a fixed duration; a thread that has sent all its lines starts again from its
  first (the repeated requests then usually fail and count as "other");
* ``once=True``: every line is sent exactly once and the run ends when the last answer arrives
  (``seconds`` is then only an upper bound). Connections with nothing left to send ask for
  ``NOOP_PATH`` (an answer carrying ``X-Bench-Noop``), which is not counted.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


NOOP_PATH = "/bench/noop/"

_SCRIPT = r"""
local lines = {}
local index, step, status_ok, marker, once, mine
local threads = {}
local counter = 0
valid, invalid, answered = 0, 0, 0
bad = ""

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do table.insert(lines, line) end
  status_ok = tonumber(args[2])
  marker = args[3]
  step = tonumber(args[4])
  once = args[5] == "once"
  index = id + 1
  mine = 0
  for i = id + 1, #lines, step do mine = mine + 1 end
end

local function parse(line)
  local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local h = {}
  for name, value in headers:gmatch("([^|]-): ([^|]*)") do h[name] = value end
  if body == "" then body = nil end
  return method, path, h, body
end

function request()
  if once and index > #lines then
    return wrk.format("GET", "/bench/noop/")
  end
  local method, path, h, body = parse(lines[(index - 1) % #lines + 1])
  index = index + step
  return wrk.format(method, path, h, body)
end

function response(status, headers, body)
  if headers["X-Bench-Noop"] then return end
  answered = answered + 1
  if status == status_ok and (marker == "" or string.find(body, marker, 1, true)) then
    valid = valid + 1
  else
    invalid = invalid + 1
    if bad == "" then bad = status .. " " .. string.sub(body, 1, 200):gsub("[\r\n]", " ") end
  end
  if once and answered >= mine then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local v, i = 0, 0
  for _, t in ipairs(threads) do
    v = v + t:get("valid")
    i = i + t:get("invalid")
    if t:get("bad") ~= "" then io.write("FIRST_OTHER " .. t:get("bad") .. "\n") end
  end
  io.write(string.format("RESULT valid=%d invalid=%d duration_us=%d p50_us=%d p99_us=%d\n",
    v, i, summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Line:
    """One request: ``headers`` and ``body`` must not contain tabs, line breaks or ``|``."""

    method: str
    path: str
    headers: dict[str, str]
    body: str = ""

    def encoded(self) -> str:
        headers = "|".join(f"{name}: {value}" for name, value in self.headers.items())
        text = f"{self.method}\t{self.path}\t{headers}\t{self.body}"
        if text.count("\t") != 3 or "\n" in text or "|" in self.body:
            raise ValueError(f"A request line cannot carry this: {text[:200]!r}")
        return text


def run(
    base_url: str,
    lines: Iterable[Line],
    *,
    workdir: Path,
    status: int = 200,
    marker: str = "",
    connections: int = 8,
    threads: int = 2,
    seconds: int = 8,
    once: bool = False,
) -> dict:
    """Run wrk against ``base_url`` with ``lines``; valid and other answers, rate, latencies."""
    requests_file = workdir / "requests.txt"
    requests_file.write_text("".join(line.encoded() + "\n" for line in lines), encoding="utf-8")
    script = workdir / "lines.lua"
    script.write_text(_SCRIPT, encoding="utf-8")
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        base_url,
        "--",
        str(requests_file),
        str(status),
        marker,
        str(threads),
        "once" if once else "duration",
    ]
    output = subprocess.run(  # noqa: S603 - fixed command
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    found = re.search(
        r"RESULT valid=(\d+) invalid=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+)", output
    )
    if not found:
        raise RuntimeError(output)
    valid, invalid, duration, p50, p99 = map(int, found.groups())
    other = re.search(r"^FIRST_OTHER (.*)$", output, re.MULTILINE)
    return {
        "first_other": other.group(1) if other else "",
        "valid": valid,
        "invalid": invalid,
        "seconds": duration / 1e6,
        "rps": valid / (duration / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }
