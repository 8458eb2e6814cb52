// esbuild plugins for serverless-esbuild (serverless.yml custom.esbuild.plugins). serverless-esbuild zips
// every file a function's build writes, so a source map built 'external' would still be deployed: this
// moves it out of the build folder before the zip is made, to sourcemaps/ beside the zips (.serverless/),
// where it stays as a build artifact: with the deployed bundle, any source map tool turns a minified stack
// trace back into file and line.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

/**
 * Where the maps go: the service's .serverless/, where the zips are written (the framework empties it
 * before the build, and moves all of it to `--package <dir>` when given one).
 */
const SOURCEMAPS = path.join('.serverless', 'sourcemaps');

function sourceMapsBesideTheZip(serviceDir) {
  return {
    name: 'source-maps-beside-the-zip',
    setup(build) {
      if (build.initialOptions.sourcemap !== 'external') return;
      build.initialOptions.metafile = true;
      build.onEnd((result) => {
        if (result.errors.length > 0 || !result.metafile) return;
        const workingDir = build.initialOptions.absWorkingDir ?? process.cwd();
        const outdir = path.resolve(workingDir, build.initialOptions.outdir ?? '.');
        for (const output of Object.keys(result.metafile.outputs)) {
          if (!output.endsWith('.map')) continue;
          const from = path.resolve(workingDir, output);
          const to = path.join(serviceDir, SOURCEMAPS, path.relative(outdir, from));
          fs.mkdirSync(path.dirname(to), { recursive: true });
          fs.renameSync(from, to);
        }
      });
    },
  };
}

module.exports = (serverless) => [sourceMapsBesideTheZip(serverless.serviceDir ?? process.cwd())];
