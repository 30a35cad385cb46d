// The page's side panel is a set of tabs (Methods, Settings, Data, Model, Formulas, Export); a
// hidden tab's content is not visible, so a test opens the tab it works in, as a user would.
import type { Page } from 'playwright-core';

export async function openTab(page: Page, name: 'Methods' | 'Settings' | 'Data' | 'Model' | 'Formulas' | 'Export'): Promise<void> {
  const tab = page.getByRole('tab', { name, exact: true });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
}
