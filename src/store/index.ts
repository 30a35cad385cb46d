// One zustand store made of slices (docs/design.md); components select narrowly.
import { create } from 'zustand';
import { createGpuSlice, type GpuSlice } from './engine';
import { createDataSlice, type DataSlice } from './data';
import { createModelSlice, type ModelSlice } from './model';
import { createAdapterSlice, type AdapterSlice } from './adapter';
import { createConfigSlice, type ConfigSlice } from './config';
import { createRunsSlice, type RunsSlice } from './runs';
import { createChartViewSlice, type ChartViewSlice } from './chart-view';

export type AppState = GpuSlice & DataSlice & ModelSlice & AdapterSlice & ConfigSlice & RunsSlice & ChartViewSlice;

export const useApp = create<AppState>()((...a) => ({
  ...createGpuSlice(...a),
  ...createDataSlice(...a),
  ...createModelSlice(...a),
  ...createAdapterSlice(...a),
  ...createConfigSlice(...a),
  ...createRunsSlice(...a),
  ...createChartViewSlice(...a),
}));
