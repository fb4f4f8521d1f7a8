// Shared components: what they show, and that they call back out.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../app/common/errors.ts';
import ErrorNote from './ErrorNote.svelte';
import Heatmap from './Heatmap.svelte';
import LineChart from './LineChart.svelte';
import BarList from './BarList.svelte';

describe('ErrorNote', () => {
  it('says what happened and what to do, and retries on request', async () => {
    const onRetry = vi.fn();
    render(ErrorNote, {
      error: new AppError('invalid-path', 'source: /data does not exist', { hint: 'Check the path and try again.' }),
      title: 'Could not open /data',
      onRetry,
    });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Could not open /data');
    expect(alert.textContent).toContain('source: /data does not exist');
    expect(alert.textContent).toContain('Check the path and try again.');
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(onRetry).toHaveBeenCalledOnce();
  });
});

describe('Heatmap (confusion matrix)', () => {
  it('shows every count and reports the clicked cell', async () => {
    const onCell = vi.fn();
    render(Heatmap, {
      classes: ['cat', 'dog'],
      matrix: [
        [5, 1],
        [0, 4],
      ],
      onCell,
    });
    const table = screen.getByRole('table', { name: 'Confusion matrix' });
    expect(table.querySelectorAll('td button')).toHaveLength(4);
    await fireEvent.click(screen.getByTitle('cat predicted as dog: 1'));
    expect(onCell).toHaveBeenCalledWith('cat', 'dog', 1);
    // Zero cells have nothing to open.
    expect((screen.getByTitle('dog predicted as cat: 0') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('LineChart', () => {
  it('draws one path per series and breaks the line at a missing value', () => {
    const { container } = render(LineChart, {
      title: 'Loss',
      series: [
        {
          name: 'train',
          color: '#000',
          points: [
            { x: 1, y: 1 },
            { x: 2, y: null },
            { x: 3, y: 0.5 },
            { x: 4, y: 0.4 },
          ],
        },
        {
          name: 'validation',
          color: '#f00',
          points: [
            { x: 1, y: 1.2 },
            { x: 2, y: 0.9 },
          ],
        },
      ],
    });
    const paths = container.querySelectorAll('svg[role=img] path');
    expect(paths).toHaveLength(2);
    expect(paths[0]!.getAttribute('d')!.match(/M/g)).toHaveLength(2);
    expect(screen.getByText('validation')).toBeTruthy();
  });
  it('says so when there is nothing to draw yet', () => {
    render(LineChart, { title: 'Accuracy', series: [{ name: 'train', color: '#000', points: [] }] });
    expect(screen.getByText('No values recorded yet.')).toBeTruthy();
  });
});

describe('BarList', () => {
  it('scales bars to the largest value and selects on click', async () => {
    const onSelect = vi.fn();
    const { container } = render(BarList, {
      label: 'Images per class',
      items: [
        { label: 'a', value: 10 },
        { label: 'b', value: 5 },
      ],
      onSelect,
    });
    const widths = [...container.querySelectorAll<HTMLElement>('.fill')].map((bar) => bar.style.width);
    expect(widths).toEqual(['100%', '50%']);
    await fireEvent.click(screen.getByRole('button', { name: 'b' }));
    expect(onSelect).toHaveBeenCalledWith('b');
  });
});
