/** What the CSV agent examples share: the layers of the receipt, and one turn of the MCS loop over a scripted model answer. */
import type { MCSDriver, MCSToolDriver } from '../src/contract/index.js';
import type { LoadReceipt } from '../src/loader/load.js';

export function printLayers(receipt: LoadReceipt): void {
  if (receipt.host.isolation !== 'process') return;
  for (const layer of receipt.host.layers) console.log(`  ${layer.applied ? 'applied' : 'not applied'} ${layer.layer}: ${layer.detail}`);
}

/** The system message goes to the model, the model's answer comes back to the driver; prints each step and the DriverResponse. */
export async function oneTurn(driver: MCSDriver | MCSToolDriver, close: () => Promise<void>): Promise<void> {
  if (!('process_llm_response' in driver)) throw new Error('expected a hybrid driver');
  console.log(`\nsystem message for the model:\n${await driver.get_driver_system_message()}`);
  const llmResponse = 'Let me add those up.\n```json\n{"tool": "summarize_numeric_column", "arguments": {"path": "sales.csv", "column": "units"}}\n```';
  console.log(`\nscripted model answer:\n${llmResponse}`);
  const response = await driver.process_llm_response(llmResponse);
  await close();
  console.log(`\nDriverResponse:\n${JSON.stringify(response, null, 2)}`);
}
