DROP INDEX topics_latest;
