"""Load from ``wrk`` (Debian package ``wrk``), the load generator every server benchmark uses.

``wrk`` is written in C and drives many connections from one thread, so it takes little of the
CPU the server under test needs (a Python client posting one request after another spends about
as much CPU per request as the server). Requests come from a file, one per line::

    METHOD <TAB> path <TAB> Name: value|Name: value <TAB> body

An answer counts as valid when its status is the expected one and, if a marker is given, its
body contains the marker. Two ways to run:

* ``seconds`` (:func:`run`): a fixed duration; wrk thread *n* of *T* sends lines *n*, *n+T*,
  *n+2T*, ... and starts again from its first when it has sent them all (the repeated requests
  then usually fail and count as "other");
* ``once=True`` (:func:`run` calls :func:`run_once`): every line is answered once, as a tool
  sending a batch over a few connections sees it. Each connection is its own wrk thread and owns
  the lines :func:`slices` gives it. With one connection per thread, wrk's Lua hooks alternate
  ``request()`` / ``response()`` for one request at a time, so the script knows which line an
  answer belongs to, and a ``request()`` with no answer since the previous one means wrk lost the
  connection (reset or closed by the server) and reconnected: that line is sent again (and a line
  answered 429, 502, 503 or 504), from ``again`` if given (e.g. signed with a fresh nonce),
  at most ``MAX_ATTEMPTS`` times. Responses, not requests, are counted; a thread stops when every
  line of its slice is answered, and ``seconds`` is only an upper bound. The times of the first
  request and of the last answer are taken inside wrk (LuaJIT's FFI, ``gettimeofday``).

wrk's main thread sleeps for the whole ``-d`` duration whatever its threads do; in ``once`` mode
each thread prints ``THREAD_DONE`` when its slice is answered and :func:`run_once` then ends the
sleep with ``SIGINT`` (wrk's own way to stop early), so a run lasts as long as its answers.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


NOOP_PATH = "/bench/noop/"
#: Statuses a tool sends its request again for (the server is busy or a proxy failed).
RETRYABLE = (429, 502, 503, 504)
#: How many times one line is sent at most in ``once`` mode (first send and re-sends).
MAX_ATTEMPTS = 5

_SCRIPT = r"""
local lines = {}
local index, step, status_ok, marker
local threads = {}
local counter = 0
valid, invalid = 0, 0
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
  index = id + 1
end

local function parse(line)
  local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local h = {}
  for name, value in headers:gmatch("([^|]-): ([^|]*)") do h[name] = value end
  if body == "" then body = nil end
  return method, path, h, body
end

function request()
  local method, path, h, body = parse(lines[(index - 1) % #lines + 1])
  index = index + step
  return wrk.format(method, path, h, body)
end

function response(status, headers, body)
  if status == status_ok and (marker == "" or string.find(body, marker, 1, true)) then
    valid = valid + 1
  else
    invalid = invalid + 1
    if bad == "" then bad = status .. " " .. string.sub(body, 1, 200):gsub("[\r\n]", " ") end
  end
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

# Every line answered once; one connection per wrk thread (see the module's docstring).
# args: lines file, re-send lines file ("" for none), expected status, marker, threads,
# retryable statuses, statuses that mean "already done" when they answer a re-sent line,
# most attempts per line. Thread n (0-based) owns lines n+1, n+1+T, ... (Lua counts from 1).
_ONCE_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } wagtail_lti_bench_timeval;
int gettimeofday(wagtail_lti_bench_timeval *tv, void *tz);
]]
local tv = ffi.new("wagtail_lti_bench_timeval")
local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local lines, again = {}, {}
local mine = {}
local started = 0
local current, attempts, answered_retryable = nil, 0, false
local verifying
local status_ok, marker, retryable, already, max_attempts
local threads = {}
local counter = 0
valid, invalid, already_done, resets, retried, given_up, answered, total = 0, 0, 0, 0, 0, 0, 0, 0
first_us, last_us = 0, 0
bad, finished = "", 0

local function statuses(text)
  local set = {}
  for code in text:gmatch("%d+") do set[tonumber(code)] = true end
  return set
end

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do table.insert(lines, line) end
  if args[2] ~= "" then
    for line in io.lines(args[2]) do table.insert(again, line) end
  end
  status_ok = tonumber(args[3])
  marker = args[4]
  local step = tonumber(args[5])
  retryable = statuses(args[6])
  already = statuses(args[7])
  max_attempts = tonumber(args[8])
  for i = id + 1, #lines, step do table.insert(mine, i) end
  total = #mine
  -- wrk calls thread 0's request() once before the run, to check the request it makes.
  verifying = id == 0
end

local function parse(line)
  local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local h = {}
  for name, value in headers:gmatch("([^|]-): ([^|]*)") do h[name] = value end
  if body == "" then body = nil end
  return wrk.format(method, path, h, body)
end

local function finish()
  if finished == 0 then
    finished = 1
    io.write("THREAD_DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function request()
  if verifying then
    verifying = false
    return wrk.format("GET", "/bench/noop/")
  end
  if current ~= nil then
    -- No answer since this line was sent: wrk lost the connection and reconnected (or the
    -- answer asked for a retry). The same line again, as a tool would send it.
    if answered_retryable then retried = retried + 1 else resets = resets + 1 end
    answered_retryable = false
    if attempts < max_attempts then
      attempts = attempts + 1
      return parse(again[current] or lines[current])
    end
    given_up = given_up + 1
    current = nil
  end
  if started >= total then
    finish()
    return wrk.format("GET", "/bench/noop/")
  end
  started = started + 1
  current = mine[started]
  attempts = 1
  if first_us == 0 then first_us = now_us() end
  return parse(lines[current])
end

function response(status, headers, body)
  if current == nil then return end
  if retryable[status] and attempts < max_attempts then
    answered_retryable = true
    return
  end
  if status == status_ok and (marker == "" or string.find(body, marker, 1, true)) then
    valid = valid + 1
  elseif attempts > 1 and already[status] then
    already_done = already_done + 1
  else
    invalid = invalid + 1
    if bad == "" then bad = status .. " " .. string.sub(body, 1, 200):gsub("[\r\n]", " ") end
  end
  answered = answered + 1
  current = nil
  last_us = now_us()
  if answered + given_up >= total then finish() end
end

function done(summary, latency, requests)
  local sums = {valid = 0, invalid = 0, already_done = 0, resets = 0, retried = 0,
                given_up = 0, unanswered = 0}
  local first, last = 0, 0
  for _, t in ipairs(threads) do
    for name, _ in pairs(sums) do
      if name ~= "unanswered" then sums[name] = sums[name] + t:get(name) end
    end
    sums.unanswered = sums.unanswered + t:get("total") - t:get("answered") - t:get("given_up")
    local f, l = t:get("first_us"), t:get("last_us")
    if f > 0 and (first == 0 or f < first) then first = f end
    if l > last then last = l end
    if t:get("bad") ~= "" then io.write("FIRST_OTHER " .. t:get("bad") .. "\n") end
  end
  io.write(string.format(
    "RESULT valid=%d invalid=%d duration_us=%d p50_us=%d p99_us=%d\n",
    sums.valid, sums.invalid, summary.duration, latency:percentile(50), latency:percentile(99)))
  io.write(string.format(
    "ONCE already=%d resets=%d retried=%d given_up=%d unanswered=%d first_us=%.0f last_us=%.0f\n",
    sums.already_done, sums.resets, sums.retried, sums.given_up, sums.unanswered, first, last))
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


def slices(count: int, threads: int) -> list[list[int]]:
    """The lines (0-based) each of ``threads`` wrk threads owns in ``once`` mode, as the Lua
    script takes them: thread *n* has lines *n*, *n+T*, *n+2T*, ... Disjoint, all covered."""
    return [list(range(n, count, threads)) for n in range(threads)]


def _write_lines(path: Path, lines: Iterable[Line]) -> int:
    text = [line.encoded() + "\n" for line in lines]
    path.write_text("".join(text), encoding="utf-8")
    return len(text)


def _parse_result(output: str) -> dict:
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
    """Run wrk against ``base_url`` with ``lines``; valid and other answers, rate, latencies.

    ``once=True``: :func:`run_once` (``threads`` is then the number of connections)."""
    if once:
        return run_once(
            base_url,
            list(lines),
            workdir=workdir,
            status=status,
            marker=marker,
            connections=connections,
            seconds=seconds,
        )
    requests_file = workdir / "requests.txt"
    _write_lines(requests_file, lines)
    script = workdir / "lines.lua"
    script.write_text(_SCRIPT, encoding="utf-8")
    command = _command(
        script,
        base_url,
        threads,
        connections,
        seconds,
        [str(requests_file), str(status), marker, str(threads)],
    )
    output = subprocess.run(  # noqa: S603 - fixed command
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    return _parse_result(output)


def _command(
    script: Path, base_url: str, threads: int, connections: int, seconds: int, args: list[str]
) -> list[str]:
    """The wrk command line: ``script`` with ``args`` after ``--``, a 30 s timeout per request."""
    return [
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
        *args,
    ]


def run_once(
    base_url: str,
    lines: Sequence[Line],
    *,
    workdir: Path,
    status: int = 200,
    marker: str = "",
    connections: int = 8,
    seconds: int = 300,
    again: Sequence[Line] | None = None,
    already: Iterable[int] = (),
    retryable: Iterable[int] = RETRYABLE,
) -> dict:
    """Every line answered once over ``connections`` connections (one wrk thread each).

    ``again``: what to send when line *i* must be sent again (default: line *i* itself), e.g.
    the same score signed with a new nonce. ``already``: statuses that, answering a re-sent line,
    mean its first sending was recorded before the connection was lost (AGS: 409, the same
    timestamp is on record); counted as ``already``, not as other answers.

    Besides :func:`run`'s figures: ``first_request`` and ``last_answer`` (epoch seconds, taken in
    wrk), ``answered_seconds`` between them (also ``seconds``), ``resets`` (lines sent again after
    a lost connection), ``retried`` (after a retryable status), ``given_up`` (after
    ``MAX_ATTEMPTS``) and ``unanswered`` (still waiting when ``seconds`` ran out).
    """
    if not lines:
        raise ValueError("No lines to send.")
    if again is not None and len(again) != len(lines):
        raise ValueError("`again` needs one line for each line.")
    threads = min(connections, len(lines))
    requests_file = workdir / "requests.txt"
    _write_lines(requests_file, lines)
    again_file = workdir / "again.txt"
    if again is not None:
        _write_lines(again_file, again)
    script = workdir / "once.lua"
    script.write_text(_ONCE_SCRIPT, encoding="utf-8")
    command = _command(
        script,
        base_url,
        threads,
        threads,
        seconds,
        [
            str(requests_file),
            str(again_file) if again is not None else "",
            str(status),
            marker,
            str(threads),
            ",".join(map(str, retryable)) or "-",
            ",".join(map(str, already)) or "-",
            str(MAX_ATTEMPTS),
        ],
    )
    with open(workdir / "wrk-stderr.txt", "wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - fixed command
            command, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    output: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for text in process.stdout:
            output.put(text)
        output.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    collected: list[str] = []
    done = 0
    deadline = time.monotonic() + seconds + 60
    try:
        while True:
            try:
                text = output.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise RuntimeError("wrk did not end in time:\n" + "".join(collected)) from None
            if text is None:
                break
            collected.append(text)
            if text.startswith("THREAD_DONE"):
                done += 1
                if done == threads:
                    _interrupt(process)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out = "".join(collected)
    result = _parse_result(out)
    found = re.search(
        r"ONCE already=(\d+) resets=(\d+) retried=(\d+) given_up=(\d+) unanswered=(\d+) "
        r"first_us=(\d+) last_us=(\d+)",
        out,
    )
    if not found:
        raise RuntimeError(out)
    already_done, resets, retried, given_up, unanswered, first_us, last_us = map(
        int, found.groups()
    )
    answered_seconds = (last_us - first_us) / 1e6 if first_us and last_us else 0.0
    result.update(
        already=already_done,
        resets=resets,
        retried=retried,
        given_up=given_up,
        unanswered=unanswered,
        first_request=first_us / 1e6,
        last_answer=last_us / 1e6,
        answered_seconds=answered_seconds,
        seconds=answered_seconds,
        rps=result["valid"] / answered_seconds if answered_seconds else 0.0,
        threads=threads,
    )
    return result


def _interrupt(process: subprocess.Popen) -> None:
    """End wrk's sleep (it installs its SIGINT handler only once its threads are started, so
    the signal is repeated until wrk ends)."""

    def repeat() -> None:
        for _ in range(40):
            if process.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
            time.sleep(0.25)

    threading.Thread(target=repeat, daemon=True).start()
