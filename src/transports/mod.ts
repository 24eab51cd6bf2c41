export * from './transport.js';
export { validateName } from './names.js';
