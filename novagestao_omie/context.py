# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"The context keys the sync hands its importers"

# Build only: leave what would be posted in draft (invoices, payment moves)
# or validated (statements); the run posts it in a transaction of its own
# (see sync_chunks)
POST_LATER = 'omie_post_later'
