// The panels of each dashboard view, as data. The page draws them and scripts/gen-dashboards.mjs
// turns the same list into the Grafana dashboards under dashboards/, so both show the same
// queries. `$__rate_interval` and `$__range` are Grafana's names; the page substitutes them with
// a window derived from each chart's step and the selected range.
//
// kind: line | stacked | bars (time series, query_range) ; heatmap | barlist | table (instant) ;
// hours (tool calls folded by hour of day) ; timeline (ALERTS history).

const STATSD = 'nc -u -w1 127.0.0.1 8125';

/** @type {Record<string, {title: string, hint: string, panels: any[]}>} */
export const VIEWS = {
  llm: {
    title: 'LLM providers',
    hint: `echo "llm_provider_request_seconds:840|ms|#provider:openai,model:gpt-4o,outcome:success" | ${STATSD}`,
    panels: [
      {
        id: 'llm-p95', title: 'p95 latency by model', kind: 'line', unit: 's', wide: true,
        queries: [
          { expr: 'histogram_quantile(0.95, sum by (model, le) (rate(llm_provider_request_seconds_bucket[$__rate_interval])))', legend: '{{model}}' },
          { expr: 'histogram_quantile(0.95, sum by (gen_ai_request_model, le) (rate(gen_ai_client_operation_duration_seconds_bucket[$__rate_interval])))', legend: '{{gen_ai_request_model}}' },
        ],
        hint: `echo "llm_provider_request_seconds:840|ms|#provider:openai,model:gpt-4o,outcome:success" | ${STATSD}`,
      },
      {
        id: 'llm-ttft', title: 'Time to first token, p95 by model', kind: 'line', unit: 's',
        queries: [
          { expr: 'histogram_quantile(0.95, sum by (gen_ai_request_model, le) (rate(gen_ai_server_time_to_first_token_seconds_bucket[$__rate_interval])))', legend: '{{gen_ai_request_model}}' },
        ],
        hint: 'send the OpenTelemetry GenAI histogram gen_ai.server.time_to_first_token (OTLP to 127.0.0.1:4317 or :4318)',
      },
      {
        id: 'llm-tokens', title: 'Token rate by kind, with cache-hit ratio', kind: 'stacked', unit: 'tok/s',
        queries: [
          { expr: 'sum by (type) (rate(llm_provider_tokens_total[$__rate_interval]))', legend: '{{type}}' },
          { expr: 'sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[$__rate_interval]))', legend: '{{gen_ai_token_type}}' },
          { expr: 'sum(rate(gen_ai_client_inference_usage_cache_read_input_tokens_total[$__rate_interval]))', legend: 'cache read' },
          { expr: 'sum(rate(gen_ai_client_inference_usage_cache_write_input_tokens_total[$__rate_interval]))', legend: 'cache write' },
          { expr: 'sum(rate(gen_ai_client_inference_usage_reasoning_output_tokens_total[$__rate_interval]))', legend: 'reasoning' },
          {
            expr: 'sum(rate(gen_ai_client_inference_usage_cache_read_input_tokens_total[$__rate_interval])) / sum(rate(gen_ai_client_inference_usage_input_tokens_total[$__rate_interval]))',
            legend: 'cache-hit ratio', axis: 'ratio',
          },
        ],
        hint: `echo "llm_provider_tokens_total:1200|c|#provider:openai,model:gpt-4o,type:prompt" | ${STATSD}`,
      },
      {
        id: 'llm-cost', title: 'Cost per hour by model', kind: 'stacked', unit: 'usd/h',
        queries: [{ expr: 'sum by (model) (rate(tallyd_llm_cost_usd_total[$__rate_interval])) * 3600', legend: '{{model}}' }],
        hint: 'tallyd prices token series as they arrive: send llm_provider_tokens_total{provider,model,type} or GenAI token metrics',
      },
      {
        id: 'llm-errors', title: 'Errors by type', kind: 'bars', unit: '/s',
        queries: [
          { expr: 'sum by (error_type) (rate(llm_provider_errors_total[$__rate_interval]))', legend: '{{error_type}}' },
          { expr: 'sum by (error_type) (rate(gen_ai_client_operation_duration_seconds_count{error_type!=""}[$__rate_interval]))', legend: '{{error_type}} (gen_ai)' },
        ],
        hint: `echo "llm_provider_errors_total:1|c|#provider:openai,model:gpt-4o,error_type:timeout" | ${STATSD}`,
      },
      {
        id: 'llm-ratelimit', title: 'Rate-limit events', kind: 'bars', unit: '/s',
        queries: [
          { expr: 'sum by (provider) (rate(llm_provider_rate_limit_delays_seconds_count[$__rate_interval]))', legend: '{{provider}} waits' },
          { expr: 'sum by (provider) (rate(llm_provider_request_seconds_count{outcome="rate_limited"}[$__rate_interval]))', legend: '{{provider}} rate_limited' },
        ],
        hint: `echo "llm_provider_rate_limit_delays_seconds:2|h|#provider:openai" | ${STATSD}`,
      },
    ],
  },
  mcp: {
    title: 'MCP tools',
    hint: `echo "mcp_tool_execute_seconds:120|ms|#server_id:github,tool_name:search,outcome:success" | ${STATSD}`,
    panels: [
      {
        id: 'mcp-heatmap', title: 'p95 execution time, server × tool', kind: 'heatmap', unit: 's', wide: true,
        rows: 'server_id', cols: 'tool_name',
        queries: [{ expr: 'histogram_quantile(0.95, sum by (server_id, tool_name, le) (rate(mcp_tool_execute_seconds_bucket[$__range])))', legend: '{{server_id}} {{tool_name}}' }],
        hint: `echo "mcp_tool_execute_seconds:120|ms|#server_id:github,tool_name:search,outcome:success" | ${STATSD}`,
      },
      {
        id: 'mcp-calls', title: 'Calls by tool', kind: 'stacked', unit: '/s',
        queries: [{ expr: 'sum by (tool_name) (rate(mcp_tool_execute_seconds_count[$__rate_interval]))', legend: '{{tool_name}}' }],
        hint: `echo "mcp_tool_execute_seconds:120|ms|#server_id:github,tool_name:search,outcome:success" | ${STATSD}`,
      },
      {
        id: 'mcp-errors', title: 'Errors by tool and kind', kind: 'bars', unit: '/s',
        queries: [{ expr: 'sum by (tool_name, error_kind) (rate(mcp_tool_errors_total[$__rate_interval]))', legend: '{{tool_name}} {{error_kind}}' }],
        hint: `echo "mcp_tool_errors_total:1|c|#server_id:github,tool_name:search,error_kind:timeout" | ${STATSD}`,
      },
      {
        id: 'mcp-conns', title: 'Active connections', kind: 'line', unit: 'count',
        queries: [{ expr: 'sum by (server_id) (mcp_server_connections_active)', legend: '{{server_id}}' }],
        hint: `echo "mcp_server_connections_active:3|g|#server_id:github" | ${STATSD}`,
      },
      {
        id: 'mcp-registry', title: 'Registry lookups, hit and miss', kind: 'stacked', unit: '/s',
        queries: [{ expr: 'sum by (outcome) (rate(mcp_tool_registry_lookup_seconds_count[$__rate_interval]))', legend: '{{outcome}}' }],
        hint: `echo "mcp_tool_registry_lookup_seconds:0.2|ms|#outcome:hit" | ${STATSD}`,
      },
      {
        id: 'mcp-spend', title: 'LLM spend caused per tool', kind: 'barlist', unit: 'usd',
        queries: [{ expr: 'sort_desc(sum by (tool) (increase(tallyd_llm_cost_usd_total{tool!=""}[$__range])))', legend: '{{tool}}' }],
        hint: 'label LLM calls with tool_name (or send GenAI spans under an execute_tool span) and their cost is attributed to the tool',
      },
    ],
  },
  usage: {
    title: 'Usage and cost',
    hint: `echo "llm_provider_tokens_total:1200|c|#provider:openai,model:gpt-4o,type:prompt,agent_id:support-bot,tenant_id:acme,user_id:u1" | ${STATSD}`,
    panels: [
      {
        id: 'usage-top-agent', title: 'Top agents by cost', kind: 'barlist', unit: 'usd', periods: ['7d', '30d'], dim: 'agent',
        queries: [{ expr: 'topk(10, sum by (agent) (increase(tallyd_llm_cost_usd_total{agent!=""}[$__range])))', legend: '{{agent}}' }],
        hint: 'send token series with an agent_id label (or gen_ai.agent.id on GenAI spans)',
      },
      {
        id: 'usage-top-user', title: 'Top users by cost', kind: 'barlist', unit: 'usd', periods: ['7d', '30d'], dim: 'user',
        queries: [{ expr: 'topk(10, sum by (user) (increase(tallyd_llm_cost_usd_total{user!=""}[$__range])))', legend: '{{user}}' }],
        hint: 'send token series with a user_id label',
      },
      {
        id: 'usage-top-tenant', title: 'Top tenants by cost', kind: 'barlist', unit: 'usd', periods: ['7d', '30d'], dim: 'tenant',
        queries: [{ expr: 'topk(10, sum by (tenant) (increase(tallyd_llm_cost_usd_total{tenant!=""}[$__range])))', legend: '{{tenant}}' }],
        hint: 'send token series with a tenant_id label',
      },
      {
        id: 'usage-trend', title: 'Cost trend', kind: 'trend', unit: 'usd', wide: true, dims: ['agent', 'tenant', 'model', 'user'],
        queries: [{ expr: 'sum by (agent) (rate(tallyd_llm_cost_usd_total[$__rate_interval])) * 3600', legend: '{{agent}}' }],
        hint: 'cost appears as soon as priced tokens arrive',
      },
      {
        id: 'usage-unpriced', title: 'Unpriced usage (tokens with no price)', kind: 'table', unit: 'tokens',
        queries: [{ expr: 'sort_desc(sum by (provider, model) (increase(tallyd_llm_unpriced_tokens_total[$__range])))', legend: '{{provider}} {{model}}' }],
        hint: 'every model that arrived has a price (add missing ones with --pricing FILE)',
        emptyIsGood: true,
      },
      {
        id: 'usage-hours', title: 'Tool calls by hour of day', kind: 'hours', unit: 'count',
        queries: [{ expr: 'sum(increase({__name__=~"mcp_tool_execute_seconds_count|gen_ai_execute_tool_duration_seconds_count"}[30m]))', legend: 'calls' }],
        hint: `echo "mcp_tool_execute_seconds:120|ms|#server_id:github,tool_name:search,outcome:success" | ${STATSD}`,
      },
      {
        id: 'usage-tools', title: 'Tool usage (daily analytics)', kind: 'usage', unit: 'count', valueLabel: 'calls', wide: true,
        queries: [{ expr: 'sort_desc(sum by (tool_name, server_id) (increase(mcp_tool_execute_seconds_count[$__range])))', legend: '{{server_id}} {{tool_name}}' }],
        hint: `echo "mcp_tool_execute_seconds:120|ms|#server_id:github,tool_name:search,outcome:success,agent_id:support-bot" | ${STATSD}`,
      },
    ],
  },
  alerts: {
    title: 'Alerts',
    hint: 'start tallyd with --rules FILE (Prometheus rule format) to evaluate alerts',
    panels: [
      {
        id: 'alerts-now', title: 'Pending and firing now', kind: 'alerts', unit: 'count', wide: true,
        queries: [{ expr: 'ALERTS{alertstate=~"pending|firing"}', legend: '{{alertname}} {{alertstate}}' }],
        hint: 'no alert is pending or firing',
        emptyIsGood: true,
      },
      {
        id: 'alerts-history', title: 'Recent history', kind: 'timeline', unit: 'count', wide: true,
        queries: [{ expr: 'ALERTS', legend: '{{alertname}}' }],
        hint: 'no alert was pending or firing in this range',
        emptyIsGood: true,
      },
    ],
  },
};

/** PAGES lists the hash routes in navigation order. */
export const PAGES = [
  { id: 'llm', title: 'LLM providers' },
  { id: 'mcp', title: 'MCP tools' },
  { id: 'usage', title: 'Usage & cost' },
  { id: 'alerts', title: 'Alerts' },
  { id: 'explore', title: 'Explorer' },
];
