"""A real MCP client (the Python `mcp` SDK) against `airlock mcp serve`, for the CLI tests.

usage: client.py PLAN.json -- AIRLOCK [ARGS...]

Starts AIRLOCK ARGS as a stdio MCP server (with this process's environment), initializes,
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


async def main() -> None:
    plan_path, separator, *command = sys.argv[1:]
    assert separator == "--", __doc__
    with open(plan_path, encoding="utf-8") as plan_file:
        plan = json.load(plan_file)
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    report = {"results": [], "elicited": []}
    answer = plan.get("elicitation")

    async def elicit(context, params):
        report["elicited"].append(params.message)
        return types.ElicitResult(action="accept", content=answer)

    async with stdio_client(server) as (read, write):
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
    print(json.dumps(report))


asyncio.run(main())
