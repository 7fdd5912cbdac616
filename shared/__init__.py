"""Gongzhi's domain: settings, database, tables and the rules every caller shares."""
