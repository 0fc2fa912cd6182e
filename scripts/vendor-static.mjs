// Copy the pinned front-end libraries from node_modules into platform/static/vendor/,
// each with its licence and version, so the site works offline and needs no CDN.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const libraries = [
  { name: "htmx.org", folder: "htmx", files: ["dist/htmx.min.js"], licence: "LICENSE" },
];

for (const lib of libraries) {
  const source = join("node_modules", lib.name);
  const target = join("platform", "static", "vendor", lib.folder);
  const { version, license } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
  mkdirSync(target, { recursive: true });
  for (const file of lib.files) copyFileSync(join(source, file), join(target, file.split("/").pop()));
  copyFileSync(join(source, lib.licence), join(target, "LICENSE"));
  writeFileSync(join(target, "VERSION"), `${lib.name} ${version} (${license}), from the npm registry\n`);
  console.log(`${lib.name} ${version} -> ${target}`);
}
