#!/bin/sh
# A minimal stdio MCP server for the exit-code table (Tests/CLITests/ExitCodeTableCLITests.swift):
# answers initialize and tools/list, one tool `hello` described by $DESCRIPTION. The MCP tool
# provider's own tests use a real server on the Python SDK (MCPToolsCLITests).
while IFS= read -r line; do
    id=$(printf '%s' "$line" | sed -n 's/.*"id":\("[^"]*"\|[0-9]*\).*/\1/p')
    case "$line" in
    *'"method":"initialize"'*)
        printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"tiny","version":"1"}}}\n' "$id" ;;
    # The client's JSON may escape the slash (tools\/list).
    *'"method":"tools'*'list"'*)
        printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"hello","description":"%s","inputSchema":{"type":"object"}}]}}\n' "$id" "$DESCRIPTION" ;;
    esac
done
