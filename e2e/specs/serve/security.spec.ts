/** The served app refuses everyone without the token, as a person's browser would see it. */
import { expect, test } from '@playwright/test';
import { e2eState } from '../../helpers/app.ts';

const state = e2eState();

test('without the token the page, the API and the event stream answer 401', async ({ request }) => {
  expect((await request.get(`${state.origin}/`)).status()).toBe(401);
  expect((await request.get(`${state.origin}/?token=wrong`)).status()).toBe(401);
  expect((await request.post(`${state.origin}/api/app:info`, { data: [] })).status()).toBe(401);
  expect((await request.get(`${state.origin}/api/events`)).status()).toBe(401);
  const allowed = await request.post(`${state.origin}/api/app:info`, { data: [], headers: { Authorization: `Bearer ${state.token}` } });
  expect(allowed.status()).toBe(200);
  expect((await allowed.json()).value.dataFolder).toBe(state.home);
});

test('a page opened without the token says how to get in, not a blank screen', async ({ page }) => {
  const response = await page.goto(`${state.origin}/`);
  expect(response?.status()).toBe(401);
  await expect(page.getByText('Open the exact URL that `effnet serve` printed')).toBeVisible();
});
