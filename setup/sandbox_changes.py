# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Change a record of the Omie sandbox as a user of Omie's screens would,
through the sandbox's admin API (its webhook goes out as Omie's would)"""
import json
import urllib.request


def change(sandbox_url, entity, omie_id, values):
    "Change the record; return it as the API shows it now"
    request = urllib.request.Request(
        sandbox_url.rstrip('/') + '/_sandbox/change',
        data=json.dumps({
                'entity': entity, 'id': omie_id, 'changes': values,
                }).encode(),
        headers={'Content-Type': 'application/json'}, method='POST')
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)['record']
