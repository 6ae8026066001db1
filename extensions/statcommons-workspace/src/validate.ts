/**
 * Checking a submission in the browser with the item JSON Schema the library publishes
 * (`GET /api/schema`, draft 2020-12), with ajv, so the form shows the same problems the
 * service would, next to the fields, before anything is sent.
 */
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import { IProblem } from './request';

export class ItemValidator {
  private readonly validateFn: ValidateFunction;

  constructor(schema: Record<string, unknown>) {
    // strict: false: the schema carries annotations of its own (x-requirement).
    const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
    this.validateFn = ajv.compile(schema);
  }

  /** The problems of `item`, one per field (dotted path such as `notebook.attached`), [] when valid. */
  problems(item: Record<string, unknown>): IProblem[] {
    if (this.validateFn(item)) {
      return [];
    }
    const seen = new Set<string>();
    const problems: IProblem[] = [];
    for (const error of this.validateFn.errors ?? []) {
      // The if/then/else wrappers repeat what a field error already says; the service makes
      // the id from the title, so a new item has none.
      if (error.keyword === 'if' || (error.keyword === 'not' && !error.instancePath)) {
        continue;
      }
      if (error.keyword === 'required' && !error.instancePath && (error.params as any).missingProperty === 'id') {
        continue;
      }
      const problem = toProblem(error);
      const key = `${problem.path}\u0000${problem.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        problems.push(problem);
      }
    }
    return problems;
  }
}

function toProblem(error: ErrorObject): IProblem {
  let path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const schema = error.parentSchema as { description?: string } | undefined;
  let message = error.message ?? 'is not allowed';
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    path = path ? `${path}.${missing}` : missing;
    message = 'missing: required';
  } else if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    path = path ? `${path}.${extra}` : extra;
    message = 'unknown field';
  } else if (schema?.description && ['pattern', 'type', 'minimum', 'maximum', 'minLength', 'maxLength', 'enum'].includes(error.keyword)) {
    message = `expected ${schema.description}`;
  }
  return { path: path || '(item)', message };
}
