// Pretrained weights: the Keras ImageNet catalogue, the download cache and offline imports.
export * from './catalogue.ts';
export * from './download.ts';
export * from './fetch.ts';
export * from './store.ts';
export * from './import.ts';
export * from './imagenet-classes.ts';
