#!/usr/bin/env node
// Compiles registry/evm/CheckpointAnchor.sol with the pinned solcjs (node_modules/solc) through the
// standard JSON API and writes agents/evm/CheckpointAnchor.json (ABI, bytecode, settings).
//
//   node scripts/compile_contract.mjs           write the JSON
//   node scripts/compile_contract.mjs --check   compile afresh; exit 1 if the committed JSON differs
//
// Every input is fixed (compiler version, source unit name, settings) so the output is byte-for-byte
// reproducible and the committed JSON can be checked in CI.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_PATH = join(ROOT, "registry", "evm", "CheckpointAnchor.sol");
const OUTPUT_PATH = join(ROOT, "agents", "evm", "CheckpointAnchor.json");
const SOURCE_UNIT = "CheckpointAnchor.sol"; // the unit name goes into the metadata hash: keep it fixed
const CONTRACT = "CheckpointAnchor";
const EXPECTED_SOLC = "0.8.37";

// london: no PUSH0 / transient storage, so the same bytecode runs on a Besu QBFT network whose
// genesis stops at the London milestone as well as on anvil and newer networks.
const SETTINGS = {
  evmVersion: "london",
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: "ipfs" },
  outputSelection: {
    [SOURCE_UNIT]: { [CONTRACT]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
  },
};

function compile() {
  const solc = require("solc");
  const version = solc.version();
  if (!version.startsWith(EXPECTED_SOLC + "+")) {
    throw new Error(`solc ${EXPECTED_SOLC} expected, node_modules/solc is ${version}`);
  }
  const source = readFileSync(SOURCE_PATH, "utf8");
  const input = { language: "Solidity", sources: { [SOURCE_UNIT]: { content: source } }, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  for (const e of output.errors ?? []) process.stderr.write((e.formattedMessage ?? e.message) + "\n");
  if (errors.length > 0) throw new Error(`${errors.length} compilation error(s)`);
  const c = output.contracts[SOURCE_UNIT][CONTRACT];
  const { outputSelection, ...recorded } = SETTINGS; // what to emit is not a compiler setting
  void outputSelection;
  const artifact = {
    contractName: CONTRACT,
    sourceUnit: SOURCE_UNIT,
    sourceSha256: createHash("sha256").update(source, "utf8").digest("hex"),
    compiler: { name: "solc", version },
    settings: recorded,
    abi: c.abi,
    bytecode: "0x" + c.evm.bytecode.object,
    deployedBytecode: "0x" + c.evm.deployedBytecode.object,
  };
  return JSON.stringify(artifact, null, 2) + "\n";
}

function main() {
  const check = process.argv.includes("--check");
  const fresh = compile();
  if (check) {
    const committed = existsSync(OUTPUT_PATH) ? readFileSync(OUTPUT_PATH, "utf8") : "";
    if (committed !== fresh) {
      process.stderr.write(
        `${OUTPUT_PATH} is out of date with ${SOURCE_PATH}: run node scripts/compile_contract.mjs\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`${OUTPUT_PATH} is up to date\n`);
    return;
  }
  writeFileSync(OUTPUT_PATH, fresh);
  process.stdout.write(`wrote ${OUTPUT_PATH}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`compile_contract: ${e.message}\n`);
  process.exit(2);
}
