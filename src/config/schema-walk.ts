import type { z } from 'zod';

/** The parts of a zod schema's definition that key-path walking reads. */
export type SchemaDef = {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
};

/** A schema's definition, typed for walking. */
export function defOf(schema: z.core.$ZodType): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

/** Looks through optional, default, prefault and pipe wrappers to the schema that holds the shape. */
export function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  for (;;) {
    const def = defOf(schema);
    const next = def.type === 'pipe' ? def.in : def.innerType;
    if (next === undefined) return schema;
    schema = next;
  }
}

/**
 * Key paths of every value a schema accepts, as the docs write them:
 * `groups.<name>.upstreams[].weight` (a record's keys are `<name>`, an array of objects is `[]`).
 */
export function schemaKeyPaths(schema: z.core.$ZodType, prefix = ''): string[] {
  const def = defOf(unwrap(schema));
  if (def.type === 'object' && def.shape !== undefined) {
    return Object.entries(def.shape).flatMap(([key, child]) =>
      schemaKeyPaths(child, prefix === '' ? key : `${prefix}.${key}`),
    );
  }
  if (def.type === 'record' && def.valueType !== undefined)
    return schemaKeyPaths(def.valueType, `${prefix}.<name>`);
  if (def.type === 'array' && def.element !== undefined) {
    const element = defOf(unwrap(def.element));
    if (element.type === 'object' || element.type === 'record')
      return schemaKeyPaths(def.element, `${prefix}[]`);
  }
  return [prefix];
}
