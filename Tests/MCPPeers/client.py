"""A real MCP client (the Python `mcp` SDK) against `airlock mcp serve`, for the CLI tests.

usage: client.py PLAN.json -- AIRLOCK [ARGS...]
       client.py PLAN.json --http unix:SOCKET [SESSIONS]

Starts AIRLOCK ARGS as a stdio MCP server (with this process's environment), or connects to
`airlock mcp serve --http unix:SOCKET` with the SDK's streamable HTTP client (over the unix
socket, through httpx; with SESSIONS > 1, that many sessions one after another, each reported
in "sessions", every session's calls the plan's), initializes,
lists the tools, makes each call of the plan in order ({"calls": [{"tool", "arguments",
"traceparent"?}], "elicitation"?: {"approve", "reason"}, "concurrent"?: true}; concurrent
calls are sent all at once), and prints one JSON document: the
negotiated protocol version, the server's info, the tools, each call's result (isError, text,
structuredContent, _meta), and the messages of the elicitations the server sent. With
"elicitation" in the plan the client declares the capability and answers every form with it.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    plan_path, separator, *command = sys.argv[1:]
    assert separator in ("--", "--http"), __doc__
    with open(plan_path, encoding="utf-8") as plan_file:
        plan = json.load(plan_file)
    if separator == "--http":
        import httpx

        socket = command[0].removeprefix("unix:")
        sessions = int(command[1]) if len(command) > 1 else 1
        reports = []
        for _ in range(sessions):
            transport = httpx.AsyncHTTPTransport(uds=socket)
            async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(300)) as http:
                async with streamable_http_client("http://localhost/mcp", http_client=http) as (read, write, _):
                    reports.append(await session(read, write, plan))
        print(json.dumps(reports[0] | {"sessions": reports}))
        return
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(server) as (read, write):
        print(json.dumps(await session(read, write, plan)))


async def session(read, write, plan) -> dict:
    report = {"results": [], "elicited": []}
    answer = plan.get("elicitation")

    async def elicit(context, params):
        report["elicited"].append(params.message)
        return types.ElicitResult(action="accept", content=answer)

    async with ClientSession(read, write, elicitation_callback=elicit if answer else None) as session:
        initialized = await session.initialize()
        report["protocol"] = str(initialized.protocolVersion)
        report["server"] = initialized.serverInfo.model_dump(mode="json", exclude_none=True)
        listed = await session.list_tools()
        report["tools"] = [tool.model_dump(mode="json", exclude_none=True) for tool in listed.tools]

        async def make(call):
            meta = {"traceparent": call["traceparent"]} if "traceparent" in call else None
            result = await session.call_tool(call["tool"], call.get("arguments"), meta=meta)
            return {
                "tool": call["tool"],
                "isError": bool(result.isError),
                "text": "".join(part.text for part in result.content if part.type == "text"),
                "structured": result.structuredContent,
                "meta": result.meta,
            }

        if plan.get("concurrent"):
            report["results"] = list(await asyncio.gather(*(make(call) for call in plan["calls"])))
        else:
            for call in plan["calls"]:
                report["results"].append(await make(call))
    return report


asyncio.run(main())
