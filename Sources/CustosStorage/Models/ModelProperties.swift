// Every model lists its fields in `properties` by hand. fluent-kit's default implementation finds
// them by reflection on every access (its own documentation calls this its most severe bottleneck),
// and it reads them several times for each query and each row: for keys, timestamps, soft-delete
// filtering, input and output. Listing them cut a demand's intake CPU time by more than a third
// (RELIABILITY.md §6).
// The lists name the property wrappers in declaration order, so queries, inserts and decoding are
// exactly as before; `ModelPropertiesTests` holds every list against what reflection finds.
