// npm run openapi: writes the ops API's OpenAPI document (generated from its zod schemas) to openapi.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '#events/openapi';

const file = join(__dirname, '..', '..', 'openapi.json');
writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
