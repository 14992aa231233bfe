// Starts the Spanner server binary for the browser tests and stops it again.
//
//   const server = await startServer();   // waits for GET /healthz = 200
//   server.baseURL                         // http://127.0.0.1:<port>
//   await server.stop();                   // SIGTERM, SIGKILL after 10 s
//
// The server is $SPANNER_BIN or scripts/kore-serve (Kore with the module in $SPANNER_MODULE), run from the project root with
// its state under var/e2e (embedded PostgreSQL included) and its output appended to
// var/e2e/server.log. The port is the first free one in 18100–18199 (or $SPANNER_E2E_PORT).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = process.env.SPANNER_E2E_ADMIN_PASSWORD || 'e2e-Admin-Passw0rd!';

const VAR_DIR = 'var/e2e';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function freePort() {
  if (process.env.SPANNER_E2E_PORT) return Number(process.env.SPANNER_E2E_PORT);
  const first = 18100 + Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const port = 18100 + ((first - 18100 + i) % 100);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free port in 18100–18199');
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function healthy(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startServer(extraEnv = {}) {
  const bin = path.resolve(ROOT, process.env.SPANNER_BIN || 'scripts/kore-serve');
  if (!fs.existsSync(bin)) throw new Error(`server binary ${bin} not found — run make build`);

  const varDir = path.join(ROOT, VAR_DIR);
  fs.mkdirSync(varDir, { recursive: true });
  const logFile = path.join(varDir, 'server.log');
  const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const log = fs.openSync(logFile, 'a');
  fs.writeSync(log, `\n==== e2e start ${new Date().toISOString()} ====\n`);

  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SPANNER_VAR_DIR: VAR_DIR,
    SPANNER_BIND: `127.0.0.1:${port}`,
    SPANNER_BASE_URL: baseURL,
    SPANNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SPANNER_DEMO: '0',
    ...extraEnv,
  };
  // detached: its own process group, so kore's workers go with it on SIGKILL.
  const child = spawn(bin, [], { cwd: ROOT, env, stdio: ['ignore', log, log], detached: true });
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  fs.closeSync(log);

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const readLog = () => {
    try {
      const all = fs.readFileSync(logFile, 'utf8');
      return all.slice(logStart);
    } catch {
      return '';
    }
  };

  // If the test process dies without calling stop(), do not leave the server behind.
  const onExit = () => {
    if (!exited) child.kill('SIGTERM');
  };
  process.once('exit', onExit);

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await healthy(`${baseURL}/healthz`))) {
    if (exited) {
      throw new Error(
        `server exited during start (code ${exited.code}, signal ${exited.signal}); log tail:\n` +
          readLog().split('\n').slice(-40).join('\n'),
      );
    }
    if (Date.now() > deadline) {
      killGroup();
      await exitPromise;
      throw new Error(`server did not answer GET /healthz with 200 within 60 s; log tail:\n${tail(logFile)}`);
    }
    await sleep(250);
  }

  async function stop() {
    if (exited) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited) killGroup();
    }, STOP_GRACE_MS);
    const result = await exitPromise;
    clearTimeout(timer);
    process.removeListener('exit', onExit);
    return result;
  }

  return { baseURL, port, pid: child.pid, logFile, log: readLog, stop };
}
