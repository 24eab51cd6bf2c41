// Descriptions of commands whose full definitions load a model (commands/provider.ts): main.ts
// lists them in --help with these words without loading the model.

export const PROVIDER_DESCRIPTION = 'task providers on unix sockets (mistifyio/provider and acomm compatible)';
