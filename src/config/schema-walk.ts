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
