// A small strict parser of the Prometheus text exposition format (version 0.0.4), for tests that read /metrics as a
// scraper would. parse-prometheus-text-format was tried first and drops the _count and _sum lines (and the labels) of
// a histogram with labels, which is what the latency histogram is; this parser refuses anything it does not know
// rather than skipping it: a line that is not a comment, a HELP, a TYPE or a sample; a sample of a family with no
// TYPE; a value that is not a number; a label value with a bad escape; a family declared twice.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name: `x_bucket`, `x_count`, `x_sum` for a histogram `x`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  summary: ['', '_count', '_sum', '_created'],
};

function parseValue(v: string, line: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  // prom-client writes `Nan` (an event-loop lag not measured yet); Prometheus reads NaN in any case (Go's ParseFloat).
  if (/^nan$/i.test(v)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`not a number: ${JSON.stringify(v)} in ${JSON.stringify(line)}`);
  return Number(v);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    if (Object.hasOwn(out, m[1]!)) throw new Error(`label ${m[1]!} twice in ${JSON.stringify(line)}`);
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => {
      if (c === 'n') return '\n';
      if (c === '\\' || c === '"') return c;
      throw new Error(`bad escape \\${c} in ${JSON.stringify(line)}`);
    });
  }
  return out;
}

export function parseMetrics(text: string): Map<string, Family> {
  const families = new Map<string, { name: string; type: MetricType; help: string; samples: Sample[] }>();
  const helps = new Map<string, string>();
  const family = (sample: string): { name: string; type: MetricType; help: string; samples: Sample[] } => {
    for (const f of families.values()) if (SUFFIXES[f.type].some((s) => sample === f.name + s)) return f;
    throw new Error(`sample ${sample} belongs to no TYPE-declared family`);
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (help) {
      helps.set(help[1]!, help[2]!);
      continue;
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      if (families.has(type[1]!)) throw new Error(`family ${type[1]!} declared twice`);
      families.set(type[1]!, { name: type[1]!, type: type[2]! as MetricType, help: helps.get(type[1]!) ?? '', samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const s = SAMPLE.exec(line);
    if (!s) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    family(s[1]!).samples.push({ name: s[1]!, labels: parseLabels(s[2] ?? '', line), value: parseValue(s[3]!, line) });
  }
  return families;
}

/** A histogram's `_count` summed over its label sets; checked against its `+Inf` buckets. */
export function histogramCount(f: Family | undefined): number {
  if (f === undefined || f.type !== 'histogram') throw new Error(`not a histogram: ${f?.name ?? 'missing'}`);
  const count = f.samples.filter((s) => s.name === `${f.name}_count`).reduce((n, s) => n + s.value, 0);
  const inf = f.samples.filter((s) => s.name === `${f.name}_bucket` && s.labels.le === '+Inf').reduce((n, s) => n + s.value, 0);
  if (count !== inf) throw new Error(`${f.name}: _count ${count} but +Inf buckets ${inf}`);
  return count;
}

/** The value of the one sample of a counter or gauge with these labels (all must match). */
export function sampleValue(f: Family | undefined, labels: Readonly<Record<string, string>> = {}): number {
  if (f === undefined) throw new Error('missing metric family');
  const m = f.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (m.length !== 1) throw new Error(`${f.name}: ${m.length} samples with ${JSON.stringify(labels)}`);
  return m[0]!.value;
}

/** The sum over a family's samples whose labels match. */
export function sumOf(f: Family | undefined, labels: Readonly<Record<string, string>> = {}): number {
  if (f === undefined) throw new Error('missing metric family');
  return f.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}
