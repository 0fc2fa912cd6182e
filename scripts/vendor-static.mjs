// Copy the pinned front-end libraries from node_modules into platform/static/vendor/,
// each with its licence and version, so the site works offline and needs no CDN.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// One entry per library: the files to copy (each lands flat in the folder under its own
// name), the licence file, and `spdx` where the package.json has no "license" field.
const libraries = [
  { name: "htmx.org", folder: "htmx", files: ["dist/htmx.min.js"], licence: "LICENSE" },
  { name: "htmx-ext-sse", folder: "htmx-ext-sse", files: ["dist/sse.min.js"], licence: "LICENSE", spdx: "0BSD" },
  {
    name: "codemirror",
    folder: "codemirror",
    files: [
      "lib/codemirror.js",
      "lib/codemirror.css",
      "mode/python/python.js",
      "mode/markdown/markdown.js",
      "addon/edit/matchbrackets.js",
      "addon/selection/active-line.js",
    ],
    licence: "LICENSE",
  },
];

for (const lib of libraries) {
  const source = join("node_modules", lib.name);
  const target = join("platform", "static", "vendor", lib.folder);
  const { version, license = lib.spdx } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
  if (!license) throw new Error(`${lib.name}: no "license" in package.json; give "spdx"`);
  const names = lib.files.map((file) => file.split("/").pop());
  if (new Set(names).size !== names.length) throw new Error(`${lib.name}: two files share a name`);
  mkdirSync(target, { recursive: true });
  lib.files.forEach((file, i) => copyFileSync(join(source, file), join(target, names[i])));
  copyFileSync(join(source, lib.licence), join(target, "LICENSE"));
  writeFileSync(join(target, "VERSION"), `${lib.name} ${version} (${license}), from the npm registry\n`);
  console.log(`${lib.name} ${version} -> ${target}`);
}
