#!/bin/sh
# A minimal stdio MCP server at the protocol boundary, for the exit-code table
# (Tests/CLITests/ExitCodeTableCLITests.swift) and MCPToolHost's tests (Tests/MCPToolsTests):
# answers initialize, tools/list (one tool `hello` described by $DESCRIPTION) and tools/call
# (`call N`, N counting this process's calls). The MCP tool provider's own tests use a real
# server on the Python SDK (MCPToolsCLITests).
calls=0
while IFS= read -r line; do
    id=$(printf '%s' "$line" | sed -n 's/.*"id":\("[^"]*"\|[0-9]*\).*/\1/p')
    case "$line" in
    *'"method":"initialize"'*)
        printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"tiny","version":"1"}}}\n' "$id" ;;
    # The client's JSON may escape the slash (tools\/list).
    *'"method":"tools'*'list"'*)
        printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"hello","description":"%s","inputSchema":{"type":"object"}}]}}\n' "$id" "$DESCRIPTION" ;;
    *'"method":"tools'*'call"'*)
        calls=$((calls + 1))
        printf '{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"call %s"}]}}\n' "$id" "$calls" ;;
    esac
done
