"""The chat's parts, one job each (issue 14 item 3): following a running run live, …"""
