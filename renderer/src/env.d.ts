declare const __FACETS_VERSION__: string;
