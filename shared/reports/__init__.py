"""The weekly summary (周报) and the campaign summary (活动总结): figures in SQL, artefacts, delivery."""
