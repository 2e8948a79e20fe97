import protobuf from 'protobufjs';

/**
 * The Prometheus remote read/write messages (prompb, `proto/prometheus/remote.proto`) built with
 * protobufjs: tests encode their requests with an independent library, not with tallyd's own
 * writer, so a bug in one cannot hide in the other.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 }, metadata: { rule: 'repeated', type: 'MetricMetadata', id: 3 } } },
        TimeSeries: { fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } } },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
        MetricMetadata: { fields: { type: { type: 'int32', id: 1 }, metricFamilyName: { type: 'string', id: 2 }, help: { type: 'string', id: 4 }, unit: { type: 'string', id: 5 } } },
        ReadRequest: { fields: { queries: { rule: 'repeated', type: 'Query', id: 1 } } },
        Query: { fields: { startTimestampMs: { type: 'int64', id: 1 }, endTimestampMs: { type: 'int64', id: 2 }, matchers: { rule: 'repeated', type: 'LabelMatcher', id: 3 } } },
        LabelMatcher: { fields: { type: { type: 'int32', id: 1 }, name: { type: 'string', id: 2 }, value: { type: 'string', id: 3 } } },
      },
    },
  },
});

/** WriteRequest is prompb's remote write request. */
export const WriteRequest = root.lookupType('prometheus.WriteRequest');
/** ReadRequest is prompb's remote read request. */
export const ReadRequest = root.lookupType('prometheus.ReadRequest');
