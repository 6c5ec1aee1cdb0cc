"""Commerce (seed 003): the integration-usage and sending-stats jobs and their schedules."""
