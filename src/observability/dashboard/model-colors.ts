// One colour per programming model, the same on the live page and in pictures.

import type { ModelKind } from '../observer.js';

export const MODEL_COLORS: Readonly<Record<ModelKind, { fill: string; stroke: string }>> = {
  worker: { fill: '#dbeafe', stroke: '#2563eb' },
  api: { fill: '#dcfce7', stroke: '#16a34a' },
  service: { fill: '#fef3c7', stroke: '#d97706' },
  task: { fill: '#f3e8ff', stroke: '#9333ea' },
  provider: { fill: '#ffe4e6', stroke: '#e11d48' },
};

export const CHANNEL_COLOR = { fill: '#f1f5f9', stroke: '#64748b' } as const;
