"""callscope.insights: Insights across calls: issue mining over the stored calls, trends, and the FAQ review workflow that publishes into the IVR knowledge base."""
