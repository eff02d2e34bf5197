"""What `tally check` proves before anything runs, one module per kind of proof.

_workspace   finds the members, imports their code, collects services, topics, statements
_graph       who publishes and who consumes each topic; Mermaid text of the graph
_routes      the HTTP routes a service declares: method, path, who may call
_handlers    every endpoint's handler against its declaration (types at run time)
_contracts   every topic's JSON Schema against contracts.lock.json
_schema_diff the rolling-deploy rules for one schema change
_asyncapi    an AsyncAPI 3 document of the same topics
_sql         every SQL statement against sql.lock.json, or a scratch database
_sql_describe  what PostgreSQL says about a statement: parameter and column types, nullability
_sql_types   whether the Python declaration fits what PostgreSQL says
_security   tenant isolation and least privilege on the schema's catalogue (_schema_facts), against
            the declared grants (_grants)
_imports    no member imports another's private modules
_scaffold    `tally new service NAME`
"""
